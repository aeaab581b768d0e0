// Gradient flow on linear regression with a learning rate, a teacher of
// variance tau and a random initial condition: its test and train losses have
// Marchenko–Pastur closed forms, so the closure tests and the closure-cost
// benchmark share it.
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
