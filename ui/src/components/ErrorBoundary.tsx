// Keeps one part of a page from taking the page down: a chunk that fails to load or a view that
// throws shows its error in place.
import { Component } from "react";

import { ErrorNotice } from "./Notice";

export class ErrorBoundary extends Component<
  { what: string; children: React.ReactNode },
  { error: unknown }
> {
  state = { error: undefined as unknown };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  render() {
    if (this.state.error !== undefined) return <ErrorNotice error={this.state.error} what={this.props.what} />;
    return this.props.children;
  }
}
