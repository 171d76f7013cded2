/*
 * batchnorm.c - batch normalisation per channel over (N, HW), NCHW floats,
 * with PyTorch semantics:
 *   training: normalise with the batch mean and the biased batch variance;
 *             running = (1-momentum)*running + momentum*batch, where the
 *             running variance takes the unbiased variance (M/(M-1), M = N*HW);
 *   eval:     normalise with the running statistics.
 * Statistics and the backward reductions are accumulated in double, one
 * channel per thread, in a fixed order (deterministic). Only the affine
 * (gamma, beta) form is provided; a NULL running_mean/running_var skips the
 * update.
 */
#include "ops.h"

#include <math.h>

/* out (N,C,HW); mean, rstd (C) saved for backward; running_* (C) updated */
void batchnorm_forward_train(float *out, float *mean, float *rstd, float *running_mean,
			     float *running_var, const float *in, const float *gamma,
			     const float *beta, int N, int C, int HW, float momentum, float eps)
{
	const double M = (double)N * HW;
	const int par = (size_t)N * C * HW >= OPS_PAR_MIN;

#pragma omp parallel for schedule(static) if (par)
	for (int c = 0; c < C; c++) {
		double sum = 0, sq = 0, mu, var;

		for (int n = 0; n < N; n++) {
			const float *x = in + ((size_t)n * C + c) * HW;

			for (int i = 0; i < HW; i++)
				sum += x[i];
		}
		mu = sum / M;
		/* two-pass variance: no cancellation for large means */
		for (int n = 0; n < N; n++) {
			const float *x = in + ((size_t)n * C + c) * HW;

			for (int i = 0; i < HW; i++) {
				double d = x[i] - mu;

				sq += d * d;
			}
		}
		var = sq / M;

		double rs = 1.0 / sqrt(var + eps);
		float a = (float)(gamma[c] * rs);
		float b = (float)(beta[c] - mu * gamma[c] * rs);

		for (int n = 0; n < N; n++) {
			const float *x = in + ((size_t)n * C + c) * HW;
			float *y = out + ((size_t)n * C + c) * HW;

			for (int i = 0; i < HW; i++)
				y[i] = a * x[i] + b;
		}
		mean[c] = (float)mu;
		rstd[c] = (float)rs;
		if (running_mean)
			running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + momentum * mu);
		if (running_var) {
			double unbiased = M > 1 ? sq / (M - 1) : var;

			running_var[c] = (float)((1.0 - momentum) * running_var[c] + momentum * unbiased);
		}
	}
}

void batchnorm_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
			    const float *running_mean, const float *running_var, int N, int C,
			    int HW, float eps)
{
	const int par = (size_t)N * C * HW >= OPS_PAR_MIN;

#pragma omp parallel for schedule(static) if (par)
	for (int c = 0; c < C; c++) {
		double rs = 1.0 / sqrt((double)running_var[c] + eps);
		float a = (float)(gamma[c] * rs);
		float b = (float)(beta[c] - running_mean[c] * gamma[c] * rs);

		for (int n = 0; n < N; n++) {
			const float *x = in + ((size_t)n * C + c) * HW;
			float *y = out + ((size_t)n * C + c) * HW;

			for (int i = 0; i < HW; i++)
				y[i] = a * x[i] + b;
		}
	}
}

/*
 * With xhat = (x - mean) * rstd and y = gamma * xhat + beta:
 *   dbeta = sum dy, dgamma = sum dy * xhat,
 *   dx = gamma * rstd / M * (M * dy - dbeta - xhat * dgamma).
 */
void batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
			const float *in, const float *mean, const float *rstd, const float *gamma,
			int N, int C, int HW)
{
	const double M = (double)N * HW;
	const int par = (size_t)N * C * HW >= OPS_PAR_MIN;

#pragma omp parallel for schedule(static) if (par)
	for (int c = 0; c < C; c++) {
		const double mu = mean[c], rs = rstd[c];
		double sg = 0, sgx = 0;

		for (int n = 0; n < N; n++) {
			const float *x = in + ((size_t)n * C + c) * HW;
			const float *g = dout + ((size_t)n * C + c) * HW;

			for (int i = 0; i < HW; i++) {
				sg += g[i];
				sgx += g[i] * ((x[i] - mu) * rs);
			}
		}
		if (dbeta)
			dbeta[c] += (float)sg;
		if (dgamma)
			dgamma[c] += (float)sgx;
		if (!din)
			continue;

		double k = gamma[c] * rs / M;
		for (int n = 0; n < N; n++) {
			const float *x = in + ((size_t)n * C + c) * HW;
			const float *g = dout + ((size_t)n * C + c) * HW;
			float *dx = din + ((size_t)n * C + c) * HW;

			for (int i = 0; i < HW; i++) {
				double xhat = (x[i] - mu) * rs;

				dx[i] += (float)(k * (M * g[i] - sg - xhat * sgx));
			}
		}
	}
}
