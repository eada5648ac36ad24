// Buttons and hyperparameter inputs. They only send requests to Python; what they show (enabled,
// values) follows the model's traits, which follow the Run's own events.

import type { AnyModel } from "./anywidget";

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

export function buildButtons(model: AnyModel): { el: HTMLElement; sync: (state: string) => void } {
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

interface HparamSpec {
  name: string;
  type: "int" | "float";
  low: number | null;
  high: number | null;
  help: string;
}

export function buildHparams(model: AnyModel): { el: HTMLElement; sync: () => void } {
  const el = document.createElement("div");
  el.className = "gw-hparams";
  const inputs = new Map<string, HTMLInputElement>();
  const build = () => {
    el.replaceChildren();
    inputs.clear();
    for (const spec of (model.get("hparam_specs") ?? []) as HparamSpec[]) {
      const label = document.createElement("label");
      label.className = "gw-hparam";
      label.title = spec.help;
      const input = document.createElement("input");
      input.type = "number";
      input.className = `gw-hparam-${spec.name}`;
      input.step = spec.type === "int" ? "1" : "any";
      if (spec.low !== null) input.min = String(spec.low);
      if (spec.high !== null) input.max = String(spec.high);
      input.addEventListener("change", () => {
        const value = spec.type === "int" ? parseInt(input.value, 10) : parseFloat(input.value);
        if (Number.isFinite(value)) model.send({ op: "hparams", values: { [spec.name]: value } });
      });
      label.append(`${spec.name} `, input);
      el.appendChild(label);
      inputs.set(spec.name, input);
    }
  };
  const sync = () => {
    if (inputs.size !== ((model.get("hparam_specs") ?? []) as HparamSpec[]).length) build();
    const values = (model.get("hparams") ?? {}) as Record<string, number>;
    for (const [name, input] of inputs) {
      if (document.activeElement !== input && name in values) input.value = String(values[name]);
    }
  };
  build();
  return { el, sync };
}
