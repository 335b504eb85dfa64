/* util_ref.h: plain, obviously-correct reference implementations of the f32 operations on one
 * image (CHW), in double, written from PyTorch's documentation; each also returns, per output, the
 * sum of the absolute values of the terms it added (for a rounding bound); and sq8's CONV2D in FORMAT.md's integers. */
#ifndef TINYRUNTIME_UTIL_REF_H
#define TINYRUNTIME_UTIL_REF_H
#include <stdint.h>
void ref_conv2d(const float *x, int C, int H, int W, const float *w, const float *b, int O, int kh, int kw, int sh,
                int sw, int ph, int pw, int dh, int dw, int groups, int act, double *y, double *yabs, int *OH, int *OW);
void ref_maxpool(const float *x, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                 int ceil_mode, double *y, int *OH, int *OW);
void ref_avgpool(const float *x, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int ceil_mode,
                 int cip, int dov, double *y, int *OH, int *OW);
void ref_adaptive(const float *x, int C, int H, int W, int is_max, int OH, int OW, double *y);
double ref_act(double v, int act);
/* sq8 CONV2D (FORMAT.md's int64 arithmetic, stride s, padding p, square k x k window, groups): x (C x H x W, zero point
   zx) into y (O x OH x OW), clamp(zy + requant(bias + sum w x, m, sf), qmin, qmax); OH, OW if not NULL */
void ref_sq8_conv(const int8_t *x, int C, int H, int W, int O, int k, int s, int p, int groups, const int8_t *w,
                  const int32_t *b, const int32_t *m, const int32_t *sf, int zx, int zy, int qmin, int qmax, int8_t *y,
                  int *OH, int *OW);
#endif
