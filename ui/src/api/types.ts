// Names for the API's types, all from the generated schema (never a hand-written copy).
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Approval = Schemas["Approval"];
export type ApprovalStatus = Schemas["ApprovalStatus"];
export type ApiKey = Schemas["ApiKey"];
export type ApiKeyRequest = Schemas["ApiKeyRequest"];
export type Connector = Schemas["Connector"];
export type CreatedApiKey = Schemas["CreatedApiKey"];
export type DataSource = Schemas["DataSource"];
export type Decision = Schemas["Decision"];
export type Detail = Schemas["Detail"];
export type EmailTemplate = Schemas["EmailTemplate"];
export type ErrorBody = Schemas["ErrorBody"];
export type Execution = Schemas["Execution"];
export type ExecutionStatus = Schemas["ExecutionStatus"];
export type ExecutionSummary = Schemas["ExecutionSummary"];
export type Me = Schemas["Me"];
export type Permission = Schemas["Permission"];
export type Role = Schemas["Role"];
export type Secret = Schemas["Secret"];
export type StepStatus = Schemas["StepStatus"];
export type StoredWorkflow = Schemas["StoredWorkflow"];
export type Team = Schemas["Team"];
export type TimelineEntry = Schemas["TimelineEntry"];
export type StepEntry = Extract<TimelineEntry, { kind: "step" }>;
export type Trace = Schemas["Trace"];
export type User = Schemas["User"];
export type Version = Schemas["Version"];
export type VersionSummary = Schemas["VersionSummary"];
export type Workflow = Schemas["Workflow"];
export type WorkflowDefinition = Schemas["WorkflowDefinition"];
export type WorkflowSummary = Schemas["WorkflowSummary"];

export const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  "pending",
  "running",
  "waiting",
  "retrying",
  "completed",
  "failed",
  "cancelled",
];
export const DECISIONS: readonly Decision[] = ["allow", "block"];
export const ROLES: readonly Role[] = ["owner", "admin", "editor", "operator", "viewer", "agent"];
