// "Describe it in English": the interpreter's suggestion goes on the canvas for review (undo
// brings back what was there); nothing is deployed until the user deploys. Its questions say
// what it could not tell from the prompt.
import { useState } from "react";

import { TextAreaField } from "../../components/Field";
import { ErrorNotice } from "../../components/Notice";
import { useInterpret } from "./api";
import type { Definition } from "./definition";

export function DescribePanel({ onSuggest }: { onSuggest: (definition: Definition) => void }) {
  const [prompt, setPrompt] = useState("");
  const [error, setError] = useState<string>();
  const interpret = useInterpret();
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    if (!prompt.trim()) {
      setError("Describe what the workflow should do.");
      return;
    }
    setError(undefined);
    interpret.mutate(prompt, { onSuccess: (answer) => onSuggest(answer.suggested_workflow as Definition) });
  };
  const answer = interpret.data;
  return (
    <section aria-label="Describe it in English" className="space-y-3 text-sm">
      <h2 className="text-base font-semibold">Describe it in English</h2>
      <form onSubmit={submit} className="space-y-2" noValidate>
        <TextAreaField
          label="What should the workflow do?"
          hint="e.g. Block checkouts over $10,000 and notify the sales managers; allow the rest."
          rows={5}
          value={prompt}
          error={error}
          onChange={(e) => setPrompt(e.target.value)}
        />
        <button type="submit" className="btn btn-primary" disabled={interpret.isPending}>
          {interpret.isPending ? "Thinking…" : "Suggest a workflow"}
        </button>
      </form>
      {interpret.isError ? <ErrorNotice error={interpret.error} what="interpret the description" /> : null}
      {answer ? (
        <div role="status" className="space-y-2">
          <p>
            The suggestion is on the canvas (confidence {Math.round(answer.confidence * 100)}%): review it, test it, then
            deploy it. Undo brings back what was there.
          </p>
          {answer.questions.length > 0 ? (
            <>
              <p className="font-semibold">Questions</p>
              <ul className="list-disc pl-5">
                {answer.questions.map((q) => (
                  <li key={q}>{q}</li>
                ))}
              </ul>
            </>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
