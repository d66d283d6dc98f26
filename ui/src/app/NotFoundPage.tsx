import { Link } from "react-router";

import { PageHeader } from "../components/Page";

export function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <p>
        There is no page here. <Link to="/">Go to the dashboard</Link>.
      </p>
    </>
  );
}
