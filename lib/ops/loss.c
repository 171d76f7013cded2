/*
 * loss.c - softmax cross-entropy with label smoothing, PyTorch's definition:
 * the target of example n is t = (1-eps)*onehot(label_n) + eps/K, and
 *   loss_n = -sum_k t_k * log softmax(logits_n)_k,   loss = mean_n loss_n.
 * Log-sum-exp is taken in double after subtracting the row maximum. The
 * gradient is (probs - t) / N. A label outside [0, K) makes the loss NaN
 * (labels are validated when the data set is read; the NaN check catches
 * anything else).
 */
#include "ops.h"

#include <math.h>

/* probs (N, K) saved for backward; logits (N, K); labels (N) */
float softmax_xent_forward(float *probs, const float *logits, const int32_t *labels, int N,
			   int K, float smoothing)
{
	double total = 0;

	for (int n = 0; n < N; n++) {
		const float *x = logits + (size_t)n * K;
		float *p = probs + (size_t)n * K;
		double mx = x[0], se = 0, lse, sum_logp = 0;

		if (labels[n] < 0 || labels[n] >= K)
			return NAN;
		for (int k = 1; k < K; k++)
			if (x[k] > mx)
				mx = x[k];
		for (int k = 0; k < K; k++)
			se += exp(x[k] - mx);
		lse = mx + log(se);
		for (int k = 0; k < K; k++) {
			double lp = x[k] - lse;

			p[k] = (float)exp(lp);
			sum_logp += lp;
		}
		total -= (1.0 - smoothing) * (x[labels[n]] - lse) + smoothing / K * sum_logp;
	}
	return (float)(total / N);
}

/* dlogits (N, K) += scale * (probs - t) / N */
void softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels, int N,
			   int K, float smoothing, float scale)
{
	if (!dlogits)
		return;
	const double off = smoothing / (double)K, on = 1.0 - smoothing + off;

	for (int n = 0; n < N; n++) {
		const float *p = probs + (size_t)n * K;
		float *d = dlogits + (size_t)n * K;

		for (int k = 0; k < K; k++) {
			double t = k == labels[n] ? on : off;

			d[k] += (float)(scale * (p[k] - t) / N);
		}
	}
}
