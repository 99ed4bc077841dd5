// The workflow's labels and flags come from the server, which reads them from the workflow table
// (GET /api/v1/reference/workflow); the last answer is kept for a page opened without a connection.
// Only what is purely presentational (colours, each role's home page) lives here.
import { API } from "./api.js";

const KEPT = "xiuhua.workflow";
const NONE = { states: {}, final_states: [], actions: {}, needs_reason: [], takes_photos: [], steps: {}, sources: {}, roles: {} };

async function loadWorkflow() {
  try {
    const response = await fetch(`${API}/reference/workflow`);
    if (response.ok) {
      const body = await response.json();
      localStorage.setItem(KEPT, JSON.stringify(body));
      return body;
    }
  } catch {
    // offline: fall back to the copy kept from the last answer
  }
  try {
    return JSON.parse(localStorage.getItem(KEPT) || "null") || NONE;
  } catch {
    return NONE;
  }
}

export const WORKFLOW = await loadWorkflow();
export const STATE_LABELS = WORKFLOW.states;
export const STATE_COLORS = {
  reported: "#1f78b4", verifying: "#6a3d9a", accepted: "#a6cee3", filed: "#b2df8a", dispatched: "#ff7f00",
  return_requested: "#fb9a99", extension_requested: "#fdbf6f", park_requested: "#cab2d6", parked: "#999999",
  disposed: "#33a02c", checking: "#b15928", checked: "#17becf", self_disposed: "#bcbd22",
  closed: "#2ca02c", voided: "#7f7f7f",
};
export const OPEN_STATES = Object.keys(STATE_LABELS).filter((s) => !WORKFLOW.final_states.includes(s));
export const ACTION_LABELS = WORKFLOW.actions;
/** Actions whose form asks for a reason (the workflow refuses them without one). */
export const NEEDS_REASON = new Set(WORKFLOW.needs_reason);
/** Actions whose form takes photos. */
export const TAKES_PHOTOS = new Set(WORKFLOW.takes_photos);
export const ROLE_LABELS = WORKFLOW.roles;
export const STEP_LABELS = WORKFLOW.steps;
export const SOURCE_LABELS = WORKFLOW.sources;
/** Where each role starts after logging in. */
export function homeOf(roles) {
  if (roles.includes("citizen")) return "citizen.html";
  if (roles.includes("supervisor")) return "field.html";
  if (roles.includes("leader")) return "command.html";
  if (roles.includes("admin")) return "admin.html";
  return "work.html";
}
