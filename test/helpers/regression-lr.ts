// Gradient flow on linear regression with a learning rate, a teacher of
// variance tau and a random initial condition, and the Marchenko–Pastur
// average its test and train losses' closed forms are written with: the
// closure tests and the closure-cost benchmark share both.
export interface RegressionLr { alpha: number; s2: number; eta: number; s0: number; tau: number }

export function regressionLrModel(p: RegressionLr): string {
  return `model "regression with a learning rate"
param alpha = ${p.alpha}, s2 = ${p.s2}, eta = ${p.eta}, s0 = ${p.s0}, tau = ${p.tau}
index i in 1..D
index mu in 1..P
ratio P/D = alpha
random X[mu,i] ~ normal(0, 1/D)
random wstar[i] ~ normal(0, tau)
random eps[mu] ~ normal(0, s2)
state w[i]
init w[i] ~ normal(0, s0)
let r[mu] = sum(i, X[mu,i]*(w[i] - wstar[i])) - eps[mu]
d/dt w[i] = -(eta/alpha) * sum(mu, X[mu,i]*r[mu])
observe test = mean(i, (w[i] - wstar[i])^2)/2
observe train = mean(mu, r[mu]^2)/2`;
}

/** ∫ f(λ) dμ_MP(λ) for XᵀX/α, X ∈ R^{P×D}, N(0, 1/D) entries, α = P/D > 1
 *  (λ = c + r cos θ; the midpoint rule in θ converges geometrically) */
export function marchenkoPastur(alpha: number, f: (l: number) => number, n = 4000): number {
  const g = 1 / alpha, c = 1 + g, r = 2 * Math.sqrt(g);
  let s = 0;
  for (let k = 0; k < n; k++) {
    const th = (Math.PI * (k + 0.5)) / n, lam = c + r * Math.cos(th);
    s += ((Math.PI / n) * r * r * Math.sin(th) ** 2) / (2 * Math.PI * g * lam) * f(lam);
  }
  return s;
}

/** The test and train losses of `regressionLrModel` at time t (initial
 *  variance v0 = s0 + tau of w − w*), as Marchenko–Pastur averages with n nodes. */
export function regressionLrLosses(p: RegressionLr, t: number, n = 4000): { test: number; train: number } {
  const { alpha, s2, eta } = p, v0 = p.s0 + p.tau;
  const test = 0.5 * marchenkoPastur(alpha, (l) => v0 * Math.exp(-2 * eta * l * t) + (s2 / alpha) * Math.expm1(-eta * l * t) ** 2 / l, n);
  const train = 0.5 * (marchenkoPastur(alpha, (l) => v0 * l * Math.exp(-2 * eta * l * t) + (s2 / alpha) * Math.exp(-2 * eta * l * t), n) + s2 * (1 - 1 / alpha));
  return { test, train };
}
