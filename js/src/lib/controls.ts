// Buttons and hyperparameter inputs. They only send requests to Python; what they show (enabled,
// values) follows the model's traits, which follow the Run's own events.

import type { AnyModel } from "./anywidget";
import type { EditMark } from "./format";

export const ACTIONS = ["start", "pause", "resume", "stop", "step", "save"] as const;
export type Action = (typeof ACTIONS)[number];

const ENABLED: Record<Action, string[]> = {
  start: ["created", "stopped"],
  pause: ["running"],
  resume: ["paused"],
  stop: ["running", "paused"],
  step: ["created", "paused", "stopped"],
  save: ["created", "running", "paused", "stopped", "finished"],
};

// Plain words: symbol glyphs (⏸, 💾) are missing from many fonts, headless browsers included.
const LABELS: Record<Action, string> = {
  start: "Start", pause: "Pause", resume: "Resume", stop: "Stop", step: "Step", save: "Save checkpoint",
};

export function buildButtons(model: AnyModel<object>): { el: HTMLElement; sync: (state: string) => void } {
  const el = document.createElement("div");
  el.className = "gw-buttons";
  const buttons = ACTIONS.map((action) => {
    const b = document.createElement("button");
    b.className = `gw-btn gw-btn-${action}`;
    b.textContent = LABELS[action];
    b.title = action;
    b.addEventListener("click", () => model.send({ op: "control", action }));
    el.appendChild(b);
    return [action, b] as const;
  });
  const sync = (state: string) => {
    for (const [action, b] of buttons) b.disabled = !ENABLED[action].includes(state);
  };
  return { el, sync };
}

/** One live-editable hyperparameter (``TrainingPanel.hparam_specs``). */
export interface HparamSpec {
  name: string;
  type: "int" | "float";
  low: number | null;
  high: number | null;
  low_inclusive?: boolean;
  high_inclusive?: boolean;
  help: string;
}

/** The traits the controls read. */
export interface HparamTraits {
  hparams: Record<string, number>;
  hparam_specs: HparamSpec[];
  edits: EditMark[];
}

/** Python's answer to one edit: whether the run took it, and why not. */
export interface EditReply {
  op: "edit";
  id: string;
  ok: boolean;
  message: string;
}

/** "0 < lr ≤ 1", "1 ≤ d_steps ≤ 10", "beta ≥ 0": the allowed values of `spec`, in words. */
export function rangeText(spec: HparamSpec): string {
  const lo = spec.low === null ? "" : `${spec.low} ${spec.low_inclusive === false ? "<" : "≤"} `;
  const hi = spec.high === null ? "" : ` ${spec.high_inclusive === false ? "<" : "≤"} ${spec.high}`;
  const kind = spec.type === "int" ? " (an integer)" : "";
  return lo || hi ? `${lo}${spec.name}${hi}${kind}` : `any ${spec.type === "int" ? "integer" : "number"}`;
}

/** Why `value` is not allowed by `spec`, or "" when it is. */
export function invalidReason(spec: HparamSpec, value: number): string {
  if (!Number.isFinite(value) || (spec.type === "int" && !Number.isInteger(value))) return `allowed: ${rangeText(spec)}`;
  const below = spec.low !== null && (spec.low_inclusive === false ? value <= spec.low : value < spec.low);
  const above = spec.high !== null && (spec.high_inclusive === false ? value >= spec.high : value > spec.high);
  return below || above ? `allowed: ${rangeText(spec)}` : "";
}

type FieldState = "" | "pending" | "applied" | "invalid";

interface Field {
  spec: HparamSpec;
  input: HTMLInputElement;
  status: HTMLSpanElement;
  /** The value sent and not yet seen applied (null when none). */
  sent: number | null;
}

/**
 * One number field per live-editable hyperparameter. Enter (or leaving the field) sends the edit; the
 * field then shows pending (the run took it; it applies at the next step), applied (the run's value is
 * now the sent one: the mark on the curves is this state) or invalid (the allowed range, at the field).
 * Escape puts back the run's value.
 */
export function buildHparams(model: AnyModel<HparamTraits>): {
  el: HTMLElement; sync: () => void; onReply: (reply: EditReply) => void;
} {
  const el = document.createElement("div");
  el.className = "gw-hparams";
  const fields = new Map<string, Field>();
  let counter = 0;
  const setState = (field: Field, state: FieldState, text: string) => {
    field.input.parentElement!.dataset.edit = state;
    field.status.textContent = text;
    field.input.setAttribute("aria-invalid", String(state === "invalid"));
  };
  const current = (name: string) => (model.get("hparams") ?? {})[name];
  const commit = (field: Field) => {
    const { spec, input } = field;
    const raw = input.value.trim();
    const value = spec.type === "int" ? Number(raw) : parseFloat(raw);
    if (raw === "" || value === current(spec.name)) {
      if (raw === "") input.value = String(current(spec.name) ?? "");
      setState(field, "", "");
      return;
    }
    const reason = invalidReason(spec, value);
    if (reason) {
      setState(field, "invalid", reason);
      return;
    }
    field.sent = value;
    const id = `${spec.name}-${++counter}`;
    input.dataset.request = id;
    setState(field, "pending", "sending…");
    model.send({ op: "hparams", id, values: { [spec.name]: value } });
  };
  const build = () => {
    el.replaceChildren();
    fields.clear();
    for (const spec of model.get("hparam_specs") ?? []) {
      const label = document.createElement("label");
      label.className = "gw-hparam";
      label.title = `${spec.help}${spec.help ? "; " : ""}allowed: ${rangeText(spec)}; Enter applies, Escape reverts`;
      const input = document.createElement("input");
      input.type = "text";
      input.inputMode = "decimal";
      input.className = `gw-hparam-${spec.name}`;
      input.spellcheck = false;
      const status = document.createElement("span");
      status.className = "gw-hparam-status";
      status.setAttribute("aria-live", "polite");
      const field: Field = { spec, input, status, sent: null };
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          e.stopPropagation(); // JupyterLab would take Enter as a notebook command
          commit(field);
        } else if (e.key === "Escape") {
          e.stopPropagation();
          input.value = String(current(spec.name) ?? "");
          setState(field, "", "");
          input.blur();
        }
      });
      input.addEventListener("change", () => commit(field));
      const name = document.createElement("span");
      name.className = "gw-hparam-name";
      name.textContent = spec.name;
      label.append(name, input, status);
      el.appendChild(label);
      fields.set(spec.name, field);
    }
  };
  const sync = () => {
    if (fields.size !== (model.get("hparam_specs") ?? []).length) build();
    const values = model.get("hparams") ?? {};
    for (const [name, field] of fields) {
      if (!(name in values)) continue;
      if (field.sent !== null && values[name] === field.sent) {
        field.sent = null;
        setState(field, "applied", "applied");
      }
      if (document.activeElement !== field.input && field.sent === null) field.input.value = String(values[name]);
    }
  };
  const onReply = (reply: EditReply) => {
    for (const field of fields.values()) {
      if (field.input.dataset.request !== reply.id) continue;
      if (!reply.ok) {
        field.sent = null;
        setState(field, "invalid", reply.message);
      } else if (field.sent !== null) {
        setState(field, "pending", "pending: applies at the next step");
      }
    }
  };
  build();
  return { el, sync, onReply };
}
