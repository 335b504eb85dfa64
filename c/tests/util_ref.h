/* util_ref.h: plain, obviously-correct reference implementations of the f32 operations on one
 * image (CHW), in double, written from PyTorch's documentation; each also returns, per output, the
 * sum of the absolute values of the terms it added (for a rounding bound). */
#ifndef TINYRUNTIME_UTIL_REF_H
#define TINYRUNTIME_UTIL_REF_H
void ref_conv2d(const float *x, int C, int H, int W, const float *w, const float *b, int O, int kh, int kw, int sh,
                int sw, int ph, int pw, int dh, int dw, int groups, int act, double *y, double *yabs, int *OH, int *OW);
void ref_maxpool(const float *x, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                 int ceil_mode, double *y, int *OH, int *OW);
void ref_avgpool(const float *x, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int ceil_mode,
                 int cip, int dov, double *y, int *OH, int *OW);
void ref_adaptive(const float *x, int C, int H, int W, int is_max, int OH, int OW, double *y);
double ref_act(double v, int act);
#endif
