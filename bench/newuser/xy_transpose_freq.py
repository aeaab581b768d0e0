# The DMFT of bench/newuser/xy-transpose.dmft derived by hand in the frequency domain:
# a = iw + 1 - g^2/b, b = iw + 2 - g^2/a (x reads y through J, y reads x through J^T),
# S_x = D/|a|^2 / (1 - g^2 (k^2 + g^2)/(|a|^2 |b|^2)), S_y = (k^2 + g^2) S_x/|b|^2, S_xy = k S_x/conj(b).
import numpy as np
from scipy.integrate import quad
g,k,D=0.5,0.5,0.3
def ab(w):
    a=1j*w+1; b=1j*w+2
    for _ in range(2000):
        a2=1j*w+1-g*g/b; b2=1j*w+2-g*g/a2
        if abs(a2-a)+abs(b2-b)<1e-15: a,b=a2,b2; break
        a,b=a2,b2
    return a,b
def S(w):
    a,b=ab(w)
    Sx=D/abs(a)**2/(1-g*g*(k*k+g*g)/(abs(a)**2*abs(b)**2))
    Sy=(k*k+g*g)*Sx/abs(b)**2
    Sxy=k*Sx/np.conj(b)
    return Sx,Sy,Sxy.real
for i,n in enumerate(['vx','vy','cxy']):
    v=quad(lambda w:S(w)[i],0,np.inf,limit=500,epsabs=1e-14,epsrel=1e-13)[0]/np.pi
    print(n, repr(v))
