// A C reference point for benchmarks/run.py: the general kernel's XOR 2-H-1 block loop and exp in C,
// without the per-epoch statistics, divergence checks and frozen-network selects. H is set at
// compile time (-DH=8; default 2).
// run.py builds it twice: IEEE-preserving with FMA, and with -ffast-math.
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <time.h>
#define NB 256
#ifndef H
#define H 2
#endif
static inline double fexp(double x){  // the kernel's sigmoid_exp: clamp, shifter, degree-11 poly
  double c = x < -708.0 ? -708.0 : x; c = c > 709.0 ? 709.0 : c;
  const double S = 6755399441055744.0 + 1023.0;
  double z = c*1.4426950408889634 + S; double kf = z - S;
  double r = (c - kf*6.93147180369123816490e-01) - kf*1.90821492927058770002e-10;
  double q = 2.5100375929185925e-08;
  q = q*r + 2.762007600563138e-07; q = q*r + 2.7557268480106926e-06; q = q*r + 2.480152132210459e-05;
  q = q*r + 0.00019841269863040675; q = q*r + 0.001388888891719689; q = q*r + 0.008333333333330065;
  q = q*r + 0.041666666666624164; q = q*r + 0.16666666666666669; q = q*r + 0.5000000000000001;
  q = q*r + 1.0; double p = q*r + 1.0;
  int64_t b; memcpy(&b, &z, 8); b <<= 52; double s; memcpy(&s, &b, 8);
  return p*s;
}
static inline double sig(double a){ return 1.0/(1.0+fexp(-a)); }
int main(){
  static double wh[2][H][NB], bh[H][NB], wo[H][NB], bo[NB], lr[NB];
  static double gwh[2][H][NB], gbh[H][NB], gwo[H][NB], gbo[NB], hid[H][NB], oacc[NB], dout[NB], worst[NB], sse[NB];
  const double X[4][2] = {{0,0},{0,1},{1,0},{1,1}}, Y[4] = {0,1,1,0};
  for (int j=0;j<NB;j++){ for(int h=0;h<H;h++){wh[0][h][j]=0.3+0.001*j; wh[1][h][j]=0.7-0.001*j; bh[h][j]=0.1*h; wo[h][j]=0.5;} bo[j]=0.2; lr[j]=0.1;}
  int E = 10000, blocks = H < 32 ? 32 / H : 1;  // about the same work at every H
  struct timespec t0,t1; clock_gettime(CLOCK_MONOTONIC,&t0);
  for (int b=0;b<blocks;b++)
  for (int k=0;k<E;k++){
    for(int j=0;j<NB;j++){worst[j]=0;sse[j]=0;}
    for(int p=0;p<4;p++){
      for(int j=0;j<NB;j++) oacc[j]=0;
      for(int h=0;h<H;h++){
        for(int j=0;j<NB;j++){ double a = bh[h][j]; if(X[p][0]!=0) a = X[p][0]*wh[0][h][j] + a; if (X[p][1]!=0) a = X[p][1]*wh[1][h][j] + a;
          double s = sig(a); hid[h][j]=s; oacc[j] += s*wo[h][j]; }
      }
      for(int j=0;j<NB;j++){ double yh = sig(oacc[j]+bo[j]); double e = Y[p]-yh; double ae=fabs(e); worst[j]= ae>worst[j]?ae:worst[j]; sse[j]+=e*e; double d = e*(yh*(1-yh)); dout[j]=d; gbo[j]+=d; }
      for(int h=0;h<H;h++) for(int j=0;j<NB;j++){ double d=dout[j], hv=hid[h][j]; gwo[h][j]+=hv*d; double delta=d*wo[h][j]*(hv*(1-hv)); gbh[h][j]+=delta; gwh[0][h][j]+=X[p][0]*delta; gwh[1][h][j]+=X[p][1]*delta; }
    }
    for(int i=0;i<2;i++) for(int h=0;h<H;h++) for(int j=0;j<NB;j++){ wh[i][h][j]+=lr[j]*gwh[i][h][j]; gwh[i][h][j]=0; }
    for(int h=0;h<H;h++) for(int j=0;j<NB;j++){ bh[h][j]+=gbh[h][j]*lr[j]; gbh[h][j]=0; wo[h][j]+=lr[j]*gwo[h][j]; gwo[h][j]=0; }
    for(int j=0;j<NB;j++){ bo[j]+=gbo[j]*lr[j]; gbo[j]=0; }
  }
  clock_gettime(CLOCK_MONOTONIC,&t1);
  double el=(t1.tv_sec-t0.tv_sec)+1e-9*(t1.tv_nsec-t0.tv_nsec);
  printf("%.1f ns per network-epoch (check %g)\n", el/( (double)blocks*NB*E)*1e9, wo[0][3]);
}
