# Finite-N stationary covariance of bench/newuser/xy-transpose.dmft (Lyapunov equation per network), fit a + b/N.
import numpy as np
from scipy.linalg import solve_continuous_lyapunov as lyap
g,k,D=0.5,0.5,0.3
rows={}
for N,S in [(300,12),(600,6),(1200,3)]:
  vals=[]
  for s in range(S):
    rng=np.random.default_rng(100+s+N)
    J=rng.normal(0,g/np.sqrt(N),(N,N)); I=np.eye(N)
    A=np.block([[-I,J],[k*I+J.T,-2*I]])
    Q=np.zeros((2*N,2*N)); Q[:N,:N]=D*I
    P=lyap(A,-Q)
    vals.append([np.trace(P[:N,:N])/N, np.trace(P[N:,N:])/N, np.trace(P[:N,N:])/N])
  v=np.array(vals); rows[N]=(v.mean(0), v.std(0,ddof=1)/np.sqrt(S))
  print(N, v.mean(0), rows[N][1])
Ns=np.array(sorted(rows)); 
for c,name in enumerate(['vx','vy','cxy']):
  y=np.array([rows[N][0][c] for N in Ns]); e=np.array([rows[N][1][c] for N in Ns])
  X=np.vstack([np.ones_like(Ns,dtype=float),1/Ns]).T; W=np.diag(1/e**2)
  cov=np.linalg.inv(X.T@W@X); b=cov@X.T@W@y
  print(name, 'N->inf', b[0], '+-', np.sqrt(cov[0,0]))
