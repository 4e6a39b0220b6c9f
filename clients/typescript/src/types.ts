// Names for the generated shapes, taken from the operations rather than from component names, so a
// renamed schema in the OpenAPI document never breaks them (only a changed shape does, as it should).
import type { paths } from "./schema.js";

type Json<R> = R extends { content: { "application/json": infer B } } ? B : never;
type Body<Op> = Op extends { requestBody?: infer R } ? Json<NonNullable<R>> : never;
type Query<Op> = Op extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

type TasksPath = paths["/api/{user_id}/tasks"];
type TaskPath = paths["/api/{user_id}/tasks/{task_id}"];
type ChangesPath = paths["/api/{user_id}/tasks/changes"];

export type Task = Json<TaskPath["get"]["responses"][200]>["data"];
export type TaskCreate = Body<TasksPath["post"]>;
export type TaskReplace = Body<TaskPath["put"]>;
export type TaskPatch = Body<TaskPath["patch"]>;
export type TaskMove = Body<paths["/api/{user_id}/tasks/{task_id}/move"]["post"]>;
type BatchPath = paths["/api/{user_id}/tasks/batch"]["post"];
export type BatchOperation = Body<BatchPath>["operations"][number];
export type BatchResult = Json<BatchPath["responses"][200]>["data"][number];
export type TaskCompletion = Body<paths["/api/{user_id}/tasks/{task_id}/complete"]["patch"]>;
export type ListQuery = Query<TasksPath["get"]>;
export type ListMeta = Json<TasksPath["get"]["responses"][200]>["meta"];
export type ChangesQuery = Query<ChangesPath["get"]>;
export type ChangesPage = Json<ChangesPath["get"]["responses"][200]>;
export type Tombstone = ChangesPage["data"]["deleted"][number];

/** A single task as the server answered it, with the headers a client acts on. */
export interface TaskResult {
  task: Task;
  /** `"<version>"`: send it back as If-Match to write only over this version. */
  etag: string;
  /** Set on a create: the new task's URL. */
  location: string | null;
}

/** A version to write over: the task itself, its version number, or an ETag as the server sent it. */
export type IfMatch = Pick<Task, "version"> | number | string;
