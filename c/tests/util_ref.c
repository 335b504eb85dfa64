/* util_ref.c: see util_ref.h */
#include "util_ref.h"

#include <math.h>

#include "util_writer.h"

/* FORMAT.md's activations, in double, written from PyTorch's documentation */
double ref_act(double v, int act) {
  double r6 = v + 3 < 0 ? 0 : v + 3 > 6 ? 6 : v + 3;
  switch (act) {
  case 1: return v > 0 ? v : 0;                 /* relu */
  case 2: return v < 0 ? 0 : v > 6 ? 6 : v;     /* relu6 */
  case 3: return 1 / (1 + exp(-v));             /* sigmoid */
  case 4: return v / (1 + exp(-v));             /* silu */
  case 5: return v * r6 / 6;                    /* hardswish */
  case 6: return r6 / 6;                        /* hardsigmoid */
  default: return v;
  }
}

void ref_conv2d(const float *x, int C, int H, int W, const float *w, const float *b, int O, int kh, int kw, int sh,
                int sw, int ph, int pw, int dh, int dw, int groups, int act, double *y, double *yabs, int *OH, int *OW) {
  int oh = pt_out_len(H, kh, sh, ph, dh, 0), ow = pt_out_len(W, kw, sw, pw, dw, 0);
  int cg = C / groups, og = O / groups;
  for (int o = 0; o < O; o++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        double s = b ? b[o] : 0, a = b ? fabs(b[o]) : 0;
        int g = o / og;
        for (int ci = 0; ci < cg; ci++)
          for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
              int iy = oy * sh - ph + ky * dh, ix = ox * sw - pw + kx * dw;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              double t = (double)w[((o * cg + ci) * kh + ky) * kw + kx] * x[((g * cg + ci) * H + iy) * W + ix];
              s += t, a += fabs(t);
            }
        y[(o * oh + oy) * ow + ox] = ref_act(s, act);
        yabs[(o * oh + oy) * ow + ox] = a;
      }
  *OH = oh, *OW = ow;
}

void ref_maxpool(const float *x, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                 int ceil_mode, double *y, int *OH, int *OW) {
  int oh = pt_out_len(H, kh, sh, ph, dh, ceil_mode), ow = pt_out_len(W, kw, sw, pw, dw, ceil_mode);
  for (int c = 0; c < C; c++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        double m = -INFINITY;
        for (int ky = 0; ky < kh && !isnan(m); ky++)
          for (int kx = 0; kx < kw && !isnan(m); kx++) {
            int iy = oy * sh - ph + ky * dh, ix = ox * sw - pw + kx * dw;
            if (iy >= 0 && iy < H && ix >= 0 && ix < W && (x[(c * H + iy) * W + ix] > m || isnan(x[(c * H + iy) * W + ix])))
              m = x[(c * H + iy) * W + ix]; /* NaN propagates */
          }
        y[(c * oh + oy) * ow + ox] = m;
      }
  *OH = oh, *OW = ow;
}

void ref_avgpool(const float *x, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int ceil_mode,
                 int cip, int dov, double *y, int *OH, int *OW) {
  int oh = pt_out_len(H, kh, sh, ph, 1, ceil_mode), ow = pt_out_len(W, kw, sw, pw, 1, ceil_mode);
  for (int c = 0; c < C; c++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        double s = 0;
        int inside = 0, padded = 0; /* positions inside the input / inside the padded input */
        for (int ky = 0; ky < kh; ky++)
          for (int kx = 0; kx < kw; kx++) {
            int iy = oy * sh - ph + ky, ix = ox * sw - pw + kx;
            if (iy < H + ph && ix < W + pw) padded++;
            if (iy >= 0 && iy < H && ix >= 0 && ix < W) s += x[(c * H + iy) * W + ix], inside++;
          }
        int div = dov ? dov : cip ? padded : inside;
        y[(c * oh + oy) * ow + ox] = div ? s / div : 0;
      }
  *OH = oh, *OW = ow;
}

void ref_adaptive(const float *x, int C, int H, int W, int is_max, int OH, int OW, double *y) {
  for (int c = 0; c < C; c++)
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++) {
        int hs = (int)floor((double)oy * H / OH), he = (int)ceil((double)(oy + 1) * H / OH);
        int ws = (int)floor((double)ox * W / OW), we = (int)ceil((double)(ox + 1) * W / OW);
        double acc = is_max ? -INFINITY : 0;
        for (int iy = hs; iy < he; iy++)
          for (int ix = ws; ix < we; ix++) {
            double v = x[(c * H + iy) * W + ix];
            acc = is_max ? (v > acc ? v : acc) : acc + v;
          }
        y[(c * OH + oy) * OW + ox] = is_max ? acc : acc / ((he - hs) * (we - ws));
      }
}

void ref_sq8_conv(const int8_t *x, int C, int H, int W, int O, int k, int s, int p, int groups, const int8_t *w,
                  const int32_t *b, const int32_t *m, const int32_t *sf, int zx, int zy, int qmin, int qmax, int8_t *y,
                  int *OH, int *OW) {
  int oh = (H + 2 * p - k) / s + 1, ow = (W + 2 * p - k) / s + 1, cg = C / groups, og = O / groups;
  for (int o = 0; o < O; o++)
    for (int i = 0; i < oh; i++)
      for (int j = 0; j < ow; j++) {
        int64_t acc = b[o];
        for (int ci = 0; ci < cg; ci++)
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
              int ih = i * s - p + ky, iw = j * s - p + kx, c = (o / og) * cg + ci;
              int v = ih >= 0 && ih < H && iw >= 0 && iw < W ? x[(c * H + ih) * W + iw] : zx;
              acc += (int64_t)w[((o * cg + ci) * k + ky) * k + kx] * v;
            }
        int64_t r = zy + ((acc * m[o] + ((int64_t)1 << (sf[o] - 1))) >> sf[o]);   /* requant, then clamp */
        y[(o * oh + i) * ow + j] = (int8_t)(r < qmin ? qmin : r > qmax ? qmax : r);
      }
  if (OH) *OH = oh;
  if (OW) *OW = ow;
}
