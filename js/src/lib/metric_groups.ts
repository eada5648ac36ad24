// Which metrics share a plot: losses with losses, discriminator outputs (0-1) with each other, a VAE's
// reconstruction and KL terms together; a metric no rule knows gets a plot of its own.

export interface MetricGroup {
  title: string;
  /** Column indices in the metric store. */
  columns: number[];
  /** Fixed y range (probabilities), or null to autoscale. */
  range: [number, number] | null;
  /** Whether the panel's log-scale switch applies (not to probabilities or signed values). */
  loggable: boolean;
}

interface Rule {
  title: string;
  test: RegExp;
  range: [number, number] | null;
  loggable: boolean;
}

const RULES: Rule[] = [
  { title: "losses", test: /^(loss(_.*)?|.*_loss)$/, range: null, loggable: true },
  { title: "D(x) on real, D(G(z)) on generated", test: /^d_(real|fake)$/, range: [0, 1],
    loggable: false },
  { title: "critic: W estimate, penalty", test: /^(wasserstein|gp)$/, range: null,
    loggable: false },
  { title: "ELBO terms (nats)", test: /^(recon|kl|elbo|kl_.*)$/, range: null, loggable: false },
];

/** The metric groups of `columns`, in the order of RULES, then one group per unmatched metric. */
export function groupMetrics(columns: string[]): MetricGroup[] {
  const groups: MetricGroup[] = [];
  const taken = new Set<number>();
  for (const rule of RULES) {
    const members = columns.map((c, i) => (rule.test.test(c) ? i : -1)).filter((i) => i >= 0);
    if (!members.length) continue;
    members.forEach((i) => taken.add(i));
    groups.push({ title: rule.title, columns: members, range: rule.range, loggable: rule.loggable });
  }
  columns.forEach((c, i) => {
    if (!taken.has(i)) groups.push({ title: c, columns: [i], range: null, loggable: true });
  });
  return groups;
}
