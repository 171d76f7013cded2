/*
 * depthwise.c - depthwise 2-D convolution, channel multiplier 1, over NCHW
 * floats: out (N, C, OH, OW) from in (N, C, H, W) and w (C, 1, kh, kw), with
 * any stride and dilation under the geometry of struct conv_shape.
 *
 * Direct loops, not tiny gemms, on "flat phase planes". The zero-padded
 * input plane is split by stride into sh*sw phase planes (PA, PB), phase
 * (ry, rx) holding padded pixel (a*sh + ry, b*sw + rx) at a*PB + b, with
 * PB = OW + ((kw-1)*dil)/sw. Then output oy*PB + ox is, for every stride
 * and dilation, sum over taps of w[t] * phase_t[oy*PB + ox + off_t]: a
 * 1-D correlation over the flat plane with unit-stride taps, whose columns
 * ox >= OW are discarded. It runs in blocks of up to 8 vectors held in
 * registers across all kh*kw taps, summed in (ky, kx) order.
 *
 * Backward lays dout out the same way, zero-padded, in G (pitch PB). The
 * input gradient of phase (ry, rx) is the correlation of G with that
 * phase's taps flipped (the same kernel as forward), interleaved back and
 * added to din. The weight gradient of tap t is the dot product of G with
 * phase_t shifted by off_t, up to 8 taps at a time in vector accumulators;
 * each plane's lanes are added in double and summed over the batch in
 * double, then over the lanes in order. Threads split planes (forward) or
 * channels (backward, which owns dw[c] and every din plane of channel c),
 * so results do not depend on the thread count.
 *
 * The plane kernels are GCC/clang vector extensions at the machine's own
 * width: this file includes itself (DW_PASS) to compile them for AVX-512
 * (16 floats), AVX2+FMA (8) and the baseline (4), and each call picks one
 * by CPU features (a vector wider than the target would be split through
 * memory, far slower than the old code). As with simd.h, results can differ
 * between machines in the last bits. The *_ref functions are the naive
 * oracles.
 */
#ifndef DW_PASS

#include "ops.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* the widest vector (floats): every size below is rounded to it */
#define VMAX 16

/* scratch a thread keeps on its stack before falling back to the heap (32 KiB) */
#define DW_STACK_FLOATS 8192

/* x86-64: AVX-512 and AVX2 kernels besides the baseline ones (NASNET_NO_CLONES: baseline only) */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(NASNET_NO_CLONES)
#define DW_X86 1
#else
#define DW_X86 0
#endif

static int round16(int n)
{
	return (n + VMAX - 1) & ~(VMAX - 1);
}

/* ceil(n / d) for d > 0, and 0 for n <= 0 */
static int cdiv0(int n, int d)
{
	return n <= 0 ? 0 : (n + d - 1) / d;
}

/* Geometry shared by every plane of one call (see the top comment). */
struct dw_geom {
	int KK;      /* taps kh*kw */
	int QY, QX;  /* largest tap shift in phase rows / columns */
	int PA, PB;  /* phase plane rows, pitch: OH + QY, OW + QX */
	int nph;     /* phases sh*sw */
	int LP;      /* floats per phase plane, with slack for vector overrun */
	int LG;      /* floats of G */
	int nf;      /* flat outputs of a plane, round16(OH * PB) */
	int TW;      /* floats of a full-resolution padded row, for sw > 2 */
	int TP;      /* pitch of the padded full-resolution input-gradient rows */
	int direct;  /* stride 1, every input row and column reached: din straight from D */
	int SLK;     /* floats past the end of the scratch that flat_to_dense may read */
	int *off;    /* KK: tap t's offset into the phase planes, (ky, kx) order */
	int *doff;   /* KK: input-gradient taps grouped by phase: offset into G */
	int *dtap;   /* KK: ... and the tap each one is */
	int *dfirst; /* nph + 1: start of each phase's group in doff */
	int *a0;     /* sh: phase rows [a0[ry], a1[ry]) of row phase ry land in the input */
	int *a1;
	int *blk;    /* KK + 1: weight-gradient tap blocks of at most 8, as start indices */
	int nblk;
};

static void dw_geom_init(struct dw_geom *g, const struct conv_shape *s)
{
	const int kh = s->kh, kw = s->kw, sh = s->sh, sw = s->sw, dil = s->dil;
	const int KK = kh * kw, nph = sh * sw;
	int *m = xmalloc(sizeof(*m) * (size_t)(3 * KK + (nph + 1) + 2 * sh + (KK + 1)));

	g->KK = KK;
	g->nph = nph;
	g->QY = (kh - 1) * dil / sh;
	g->QX = (kw - 1) * dil / sw;
	g->PA = s->OH + g->QY;
	g->PB = s->OW + g->QX;
	g->nf = round16(s->OH * g->PB);
	/* reads reach nf - 1 + QY*PB + QX past a plane start; row fills overrun by < 2*VMAX */
	g->LP = round16(g->PA * g->PB + g->QX + 4 * VMAX);
	g->LG = round16((s->OH + 2 * g->QY + 1) * g->PB + g->QX + 4 * VMAX);
	g->TW = sw > 2 ? sw * (round16(g->PB) + VMAX) + 2 * VMAX : 0;
	g->off = m;
	g->doff = m + KK;
	g->dtap = m + 2 * KK;
	g->dfirst = m + 3 * KK;
	g->a0 = m + 3 * KK + nph + 1;
	g->a1 = g->a0 + sh;
	g->blk = g->a1 + sh;
	for (int ky = 0; ky < kh; ky++)
		for (int kx = 0; kx < kw; kx++) {
			int qy = ky * dil / sh, ry = ky * dil % sh;
			int qx = kx * dil / sw, rx = kx * dil % sw;

			g->off[ky * kw + kx] = (ry * sw + rx) * g->LP + qy * g->PB + qx;
		}
	/* input-gradient taps per phase, in (ky, kx) order within a phase */
	int n = 0;

	for (int p = 0; p < nph; p++) {
		g->dfirst[p] = n;
		for (int t = 0; t < KK; t++) {
			int ky = t / kw, kx = t % kw;
			int qy = ky * dil / sh, ry = ky * dil % sh;
			int qx = kx * dil / sw, rx = kx * dil % sw;

			if (ry * sw + rx != p)
				continue;
			g->doff[n] = (g->QY - qy) * g->PB + (g->QX - qx);
			g->dtap[n++] = t;
		}
	}
	g->dfirst[nph] = n;
	for (int ry = 0; ry < sh; ry++) {
		int lo = cdiv0(s->pt - ry, sh), hi = cdiv0(s->pt + s->H - ry, sh);

		g->a0[ry] = lo;
		g->a1[ry] = hi < g->PA ? hi : g->PA;
	}
	g->TP = sw * g->PB > s->pl + s->W ? sw * g->PB : s->pl + s->W;
	g->SLK = VMAX * (g->TP > g->PB ? g->TP : g->PB) + 4 * VMAX;
	g->direct = sh == 1 && sw == 1 && g->a0[0] == s->pt && g->a1[0] == s->pt + s->H &&
		    s->pl + s->W <= g->PB;
	/* weight-gradient blocks: as even as possible, at most 8 taps each */
	g->nblk = (KK + 7) / 8;
	for (int b = 0, t = 0; b <= g->nblk; b++) {
		g->blk[b] = t;
		t += KK / g->nblk + (b < KK % g->nblk);
	}
}

/* per-thread scratch: on the stack when small, else on the heap */
struct dw_scratch {
	float *base, *heap;
};

static float *scratch_get(struct dw_scratch *sc, float *stack, size_t n)
{
	sc->heap = n > DW_STACK_FLOATS ? xmalloc(sizeof(float) * n) : NULL;
	sc->base = sc->heap ? sc->heap : stack;
	memset(sc->base, 0, sizeof(float) * n);
	return sc->base;
}

/* the plane kernels of one vector width (the DW_PASS section at the end) */
typedef void dw_fwd_fn(float *restrict o, const float *restrict x, const float *xend,
		       const float *restrict wc, const struct conv_shape *s,
		       const struct dw_geom *g, float *restrict X, float *restrict tmp,
		       float *restrict of);
typedef void dw_bwd_fn(float *restrict dx, double *restrict ad, const float *restrict dy,
		       const float *restrict x, const float *xend, const float *restrict wd,
		       const struct conv_shape *s, const struct dw_geom *g, float *restrict X,
		       float *restrict G, float *restrict D, float *restrict tmp,
		       float *restrict T);

#define DW_PASS
#if DW_X86
#define VL 16
#define DW_TARGET __attribute__((target("avx512f")))
#define DW_NAME(f) f##_avx512
#include "depthwise.c"
#undef VL
#undef DW_TARGET
#undef DW_NAME
#define VL 8
#define DW_TARGET __attribute__((target("avx2,fma")))
#define DW_NAME(f) f##_avx2
#include "depthwise.c"
#undef VL
#undef DW_TARGET
#undef DW_NAME
#endif
#define VL 4
#define DW_TARGET
#define DW_NAME(f) f##_base
#include "depthwise.c"
#undef VL
#undef DW_TARGET
#undef DW_NAME
#undef DW_PASS

/* the widest kernels this CPU runs; lanes (VL/2) doubles per tap carry their dw sums */
struct dw_kernels {
	dw_fwd_fn *fwd;
	dw_bwd_fn *bwd;
	int lanes;
};

static struct dw_kernels pick_kernels(void)
{
#if DW_X86
	if (__builtin_cpu_supports("avx512f"))
		return (struct dw_kernels){ plane_forward_avx512, plane_backward_avx512, 8 };
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return (struct dw_kernels){ plane_forward_avx2, plane_backward_avx2, 4 };
#endif
	return (struct dw_kernels){ plane_forward_base, plane_backward_base, 2 };
}

/*
 * Ask for the next plane's n floats while this one computes: the tensors
 * are megabytes, and one plane's few cache lines are too short a stream
 * for the hardware prefetcher to run ahead of.
 */
static void prefetch(const float *p, size_t n, int write)
{
	for (size_t i = 0; i < n; i += VMAX)
		if (write)
			__builtin_prefetch(p + i, 1, 3);
		else
			__builtin_prefetch(p + i, 0, 3);
}

/* SAME and VALID padding; any other geometry goes to the reference loops */
static int fast_ok(const struct conv_shape *s)
{
	return s->pt >= 0 && s->pl >= 0 && s->sh >= 1 && s->sw >= 1 && s->dil >= 1 &&
	       s->kh >= 1 && s->kw >= 1;
}

void depthwise_forward(float *out, const float *in, const float *w, const struct conv_shape *s)
{
	const int C = s->C, H = s->H, W = s->W, OH = s->OH, OW = s->OW, KK = s->kh * s->kw;
	const int planes = s->N * C;
	const int par = ops_par((size_t)planes * OH * OW * KK);
	const float *xend = in + (size_t)planes * H * W;
	struct dw_geom g;
	struct dw_kernels k;

	if (planes <= 0 || OH <= 0 || OW <= 0)
		return;
	if (!fast_ok(s)) {
		depthwise_forward_ref(out, in, w, s);
		return;
	}
	k = pick_kernels();
	dw_geom_init(&g, s);
#pragma omp parallel if (par)
	{
		float stack[DW_STACK_FLOATS] __attribute__((aligned(64)));
		struct dw_scratch sc;
		float *X = scratch_get(&sc, stack, (size_t)g.nph * g.LP + g.nf + VMAX + g.TW +
					 g.SLK);
		float *of = X + (size_t)g.nph * g.LP, *tmp = of + g.nf + VMAX;

#pragma omp for schedule(static)
		for (int p = 0; p < planes; p++) {
			if (p + 1 < planes) {
				prefetch(in + (size_t)(p + 1) * H * W, (size_t)H * W, 0);
				prefetch(out + (size_t)(p + 1) * OH * OW, (size_t)OH * OW, 1);
			}
			k.fwd(out + (size_t)p * OH * OW, in + (size_t)p * H * W, xend,
			      w + (size_t)(p % C) * KK, s, &g, X, tmp, of);
		}
		free(sc.heap);
	}
	free(g.off);
}

/*
 * One channel per thread: it owns dw[c] and the din planes of channel c, so
 * results do not depend on the thread count. The weight gradient is summed
 * per plane in float lanes, then in double lanes over the batch, then over
 * the lanes in order.
 */
void depthwise_backward(float *din, float *dw, const float *dout, const float *in,
			const float *w, const struct conv_shape *s)
{
	const int C = s->C, H = s->H, W = s->W, OH = s->OH, OW = s->OW;
	const int KK = s->kh * s->kw;
	const int par = ops_par((size_t)s->N * C * OH * OW * KK);
	const float *xend = in + (size_t)s->N * C * H * W;
	struct dw_geom g;
	struct dw_kernels k;

	if (s->N <= 0 || C <= 0 || OH <= 0 || OW <= 0 || (!din && !dw))
		return;
	if (!fast_ok(s)) {
		depthwise_backward_ref(din, dw, dout, in, w, s);
		return;
	}
	k = pick_kernels();
	dw_geom_init(&g, s);
#pragma omp parallel if (par)
	{
		float stack[DW_STACK_FLOATS] __attribute__((aligned(64)));
		struct dw_scratch sc;
		size_t nx = dw ? (size_t)g.nph * g.LP : 0, nd = din ? (size_t)g.nph * g.LP : 0;
		size_t nt = din && !g.direct ? (size_t)(H + 1) * g.TP + 4 * VMAX : 0;
		size_t nad = 2 * (size_t)KK * k.lanes;   /* floats of ad, first: 8-byte aligned */
		float *base = scratch_get(&sc, stack,
					  nad + nx + g.LG + nd + g.TW + nt + KK + g.SLK);
		double *ad = (double *)(void *)base;
		float *X = base + nad, *G = X + nx, *D = G + g.LG, *tmp = D + nd;
		float *T = tmp + g.TW, *wd = T + nt;

#pragma omp for schedule(static)
		for (int c = 0; c < C; c++) {
			for (int j = 0; j < KK; j++)
				wd[j] = w[(size_t)c * KK + g.dtap[j]];
			memset(ad, 0, sizeof(*ad) * (size_t)k.lanes * KK);
			for (int n = 0; n < s->N; n++) {
				size_t p = (size_t)n * C + c, q = p + C;

				if (n + 1 < s->N) {
					prefetch(dout + q * OH * OW, (size_t)OH * OW, 0);
					if (dw)
						prefetch(in + q * H * W, (size_t)H * W, 0);
					if (din)
						prefetch(din + q * H * W, (size_t)H * W, 1);
				}
				k.bwd(din ? din + p * H * W : NULL, dw ? ad : NULL,
				      dout + p * OH * OW, in + p * H * W, xend, wd, s, &g,
				      X, G, D, tmp, T);
			}
			if (dw)
				for (int t = 0; t < KK; t++) {
					double sum = 0;

					for (int l = 0; l < k.lanes; l++)
						sum += ad[(size_t)k.lanes * t + l];
					dw[(size_t)c * KK + t] += (float)sum;
				}
		}
		free(sc.heap);
	}
	free(g.off);
}

void depthwise_forward_ref(float *out, const float *in, const float *w,
			   const struct conv_shape *s)
{
	const int C = s->C, H = s->H, W = s->W, OH = s->OH, OW = s->OW;

	for (int n = 0; n < s->N; n++)
		for (int c = 0; c < C; c++)
			for (int oy = 0; oy < OH; oy++)
				for (int ox = 0; ox < OW; ox++) {
					double acc = 0;

					for (int ky = 0; ky < s->kh; ky++)
						for (int kx = 0; kx < s->kw; kx++) {
							int iy = oy * s->sh - s->pt + ky * s->dil;
							int ix = ox * s->sw - s->pl + kx * s->dil;

							if (iy < 0 || iy >= H || ix < 0 || ix >= W)
								continue;
							acc += (double)in[(((size_t)n * C + c) * H + iy) * W + ix] *
							       w[((size_t)c * s->kh + ky) * s->kw + kx];
						}
					out[(((size_t)n * C + c) * OH + oy) * OW + ox] = (float)acc;
				}
}

void depthwise_backward_ref(float *din, float *dw, const float *dout, const float *in,
			    const float *w, const struct conv_shape *s)
{
	const int C = s->C, H = s->H, W = s->W, OH = s->OH, OW = s->OW;

	for (int n = 0; n < s->N; n++)
		for (int c = 0; c < C; c++)
			for (int oy = 0; oy < OH; oy++)
				for (int ox = 0; ox < OW; ox++) {
					float g = dout[(((size_t)n * C + c) * OH + oy) * OW + ox];

					for (int ky = 0; ky < s->kh; ky++)
						for (int kx = 0; kx < s->kw; kx++) {
							int iy = oy * s->sh - s->pt + ky * s->dil;
							int ix = ox * s->sw - s->pl + kx * s->dil;
							size_t ii = (((size_t)n * C + c) * H + iy) * W + ix;
							size_t wi = ((size_t)c * s->kh + ky) * s->kw + kx;

							if (iy < 0 || iy >= H || ix < 0 || ix >= W)
								continue;
							if (din)
								din[ii] += g * w[wi];
							if (dw)
								dw[wi] += g * in[ii];
						}
				}
}

#else /* DW_PASS: the plane kernels at VL floats per vector, names DW_NAME(f) */

#define vf DW_NAME(vf)
#define vi DW_NAME(vi)
#define vh DW_NAME(vh)
#define vd DW_NAME(vd)
#define copy_rows DW_NAME(copy_rows)
#define dense_gather DW_NAME(dense_gather)
#define dense_m DW_NAME(dense_m)
#define dense_span DW_NAME(dense_span)
#define flat_to_dense DW_NAME(flat_to_dense)
#define split_row2 DW_NAME(split_row2)
#define interleave2 DW_NAME(interleave2)
#define fill_phases DW_NAME(fill_phases)
#define corr_block DW_NAME(corr_block)
#define corr DW_NAME(corr)
#define dot_block DW_NAME(dot_block)
#define dot_taps DW_NAME(dot_taps)
#define plane_forward DW_NAME(plane_forward)
#define plane_backward DW_NAME(plane_backward)

/* vector of VL floats / ints, and half a vector as floats / doubles */
typedef float vf __attribute__((vector_size(4 * VL)));
typedef int vi __attribute__((vector_size(4 * VL)));
typedef float vh __attribute__((vector_size(2 * VL)));
typedef double vd __attribute__((vector_size(4 * VL)));

/* lane indices: all, even, odd, zip of the low / high halves of two, halves */
#if VL == 16
#define I_ALL 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
#define I_EVEN 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define I_ODD 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
#define I_ZIPLO 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23
#define I_ZIPHI 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31
#define I_LO 0, 1, 2, 3, 4, 5, 6, 7
#define I_HI 8, 9, 10, 11, 12, 13, 14, 15
#elif VL == 8
#define I_ALL 0, 1, 2, 3, 4, 5, 6, 7
#define I_EVEN 0, 2, 4, 6, 8, 10, 12, 14
#define I_ODD 1, 3, 5, 7, 9, 11, 13, 15
#define I_ZIPLO 0, 8, 1, 9, 2, 10, 3, 11
#define I_ZIPHI 4, 12, 5, 13, 6, 14, 7, 15
#define I_LO 0, 1, 2, 3
#define I_HI 4, 5, 6, 7
#elif VL == 4
#define I_ALL 0, 1, 2, 3
#define I_EVEN 0, 2, 4, 6
#define I_ODD 1, 3, 5, 7
#define I_ZIPLO 0, 4, 1, 5
#define I_ZIPHI 2, 6, 3, 7
#define I_LO 0, 1
#define I_HI 2, 3
#else
#error "VL must be 4, 8 or 16"
#endif

/* unaligned vector load / store */
#define VLOAD(p) ({ vf vl_; memcpy(&vl_, (p), sizeof(vl_)); vl_; })
#define VSTORE(p, v) do { vf vs_ = (v); memcpy((p), &vs_, sizeof(vs_)); } while (0)
#define LANES ((vi){ I_ALL })
/* lanes where m is set from a, the others from b */
#define SELECT(m, a, b) ((vf)(((vi)(a) & (m)) | ((vi)(b) & ~(m))))

#define DW_INLINE static inline __attribute__((always_inline)) DW_TARGET

/*
 * rows rows of n floats: d + r*dp gets s + r*sp. Whole vectors while the
 * row can be read to a multiple of 16 before send, the lanes past n written
 * as zero into space that stays zero or is overwritten later; else scalars.
 */
DW_INLINE void copy_rows(float *restrict d, int dp, const float *restrict s, int sp, int rows,
			 int n, const float *send)
{
	const int reach = round16(n);

	for (int r = 0; r < rows; r++) {
		const float *sr = s + (size_t)r * sp;
		float *dr = d + (size_t)r * dp;

		if (send - sr < reach) {
			for (int x = 0; x < n; x++)
				dr[x] = sr[x];
			continue;
		}
		/* masked every time: a plain vector copy loop would become a memcpy call */
		for (int x = 0; x < n; x += VL)
			VSTORE(dr + x, (vf)((vi)VLOAD(sr + x) & (LANES < n - x)));
	}
}

/*
 * The dense plane d (H, W) gets (add: +=) the rows of s, pitch sp >= W, in
 * whole vectors of d, each gathered from the M rows of s it may span (lanes
 * l >= k*W - x0 come from row y + k, at the lane-0 address + k*(sp - W)).
 * No store overlaps another, so no load waits on a partial store, and no
 * branch depends on the data; the last partial vector goes lane by lane.
 * s is read up to (M - 1)*(sp - W) + VL floats past its last row.
 */
DW_INLINE void dense_gather(vf *restrict out, const float *restrict p, int W, int x0, int step,
			    const int M)
{
	vf v = VLOAD(p);

#pragma GCC unroll 16
	for (int k = 1; k < M; k++)
		v = SELECT(LANES >= k * W - x0, VLOAD(p + (size_t)k * step), v);
	*out = v;
}

DW_INLINE void dense_m(float *restrict d, const float *restrict s, int sp, int W, int H,
		       const int add, const int M)
{
	const int HW = H * W, dy = VL / W, dx = VL % W;
	int y = 0, x0 = 0, j = 0;
	vf v;

	for (; j + VL <= HW; j += VL) {
		dense_gather(&v, s + (size_t)y * sp + x0, W, x0, sp - W, M);
		VSTORE(d + j, add ? VLOAD(d + j) + v : v);
		/* (y, x0) of lane 0 of the next vector, without a branch */
		x0 += dx;
		y += dy + (x0 >= W);
		x0 -= x0 >= W ? W : 0;
	}
	if (j < HW) {
		float t[VL];

		dense_gather(&v, s + (size_t)y * sp + x0, W, x0, sp - W, M);
		VSTORE(t, v);
		for (int l = 0; l < HW - j; l++)
			d[j + l] = add ? d[j + l] + t[l] : t[l];
	}
}

/* rows a vector of a dense plane of width W may span */
static inline int dense_span(int W)
{
	return (W + VL - 2) / W + 1;
}

DW_INLINE void flat_to_dense(float *restrict d, const float *restrict s, int sp, int W, int H,
			     const int add)
{
	switch (dense_span(W)) {
	case 2:
		dense_m(d, s, sp, W, H, add, 2);
		break;
	case 3:
		dense_m(d, s, sp, W, H, add, 3);
		break;
	case 4:
		dense_m(d, s, sp, W, H, add, 4);
		break;
	default:
		dense_m(d, s, sp, W, H, add, dense_span(W));
		break;
	}
}

/*
 * Stride 2: padded row p (pl + n floats, input row xr at pl) split into
 * its column phases, d0[b] = p[2b] and d1[b] = p[2b + 1], straight from
 * registers: 2*VL input floats at a time (lanes past n zero) give VL even
 * and VL odd ones, which land at b = pl/2 (+1 for odd pl's second phase).
 * Only data and the zeros past it are written, as in copy_rows.
 */
DW_INLINE void split_row2(float *restrict d0, float *restrict d1, const float *restrict xr,
			  int n, int pl, const float *xend)
{
	const int m = pl / 2;
	float *de = pl % 2 ? d1 + m : d0 + m, *dd = pl % 2 ? d0 + m + 1 : d1 + m;

	if (xend - xr < round16(n) + VMAX) {
		for (int x = 0; x < n; x++)
			((x + pl) % 2 ? d1 : d0)[(x + pl) / 2] = xr[x];
		return;
	}
	for (int c = 0; c < n; c += 2 * VL) {
		vf a = (vf)((vi)VLOAD(xr + c) & (LANES < n - c));
		vf b = (vf)((vi)VLOAD(xr + c + VL) & (LANES < n - c - VL));

		VSTORE(de + c / 2, __builtin_shufflevector(a, b, I_EVEN));
		VSTORE(dd + c / 2, __builtin_shufflevector(a, b, I_ODD));
	}
}

/* t[2b] = e[b], t[2b + 1] = o[b] for b in [0, VL*nv) */
DW_INLINE void interleave2(float *restrict t, const float *restrict e, const float *restrict o,
			   int nv)
{
	for (int j = 0; j < nv; j++) {
		vf a = VLOAD(e + VL * j), b = VLOAD(o + VL * j);

		VSTORE(t + 2 * VL * j, __builtin_shufflevector(a, b, I_ZIPLO));
		VSTORE(t + 2 * VL * j + VL, __builtin_shufflevector(a, b, I_ZIPHI));
	}
}

/*
 * The phase planes X (nph, LP) of input plane x (H, W); xend bounds reads
 * of x (the end of the tensor). Only data is written: the padding stays
 * the zeros the thread's scratch started with. tmp (TW) is the padded
 * full-resolution row for sw > 2, also zero outside the data.
 */
DW_INLINE void fill_phases(float *restrict X, float *restrict tmp, const float *restrict x,
			   const float *xend, const struct conv_shape *s, const struct dw_geom *g)
{
	const int sh = s->sh, sw = s->sw, W = s->W, PB = g->PB;
	const int n = (sw * PB - s->pl < W ? sw * PB - s->pl : W);

	if (n <= 0)
		return;
	for (int ry = 0; ry < sh; ry++) {
		const int a0 = g->a0[ry], rows = g->a1[ry] - a0;
		const float *xr = x + (size_t)(a0 * sh + ry - s->pt) * W;
		float *d = X + (size_t)ry * sw * g->LP + (size_t)a0 * PB;

		if (sw == 1) {
			copy_rows(d + s->pl, PB, xr, sh * W, rows, n, xend);
			continue;
		}
		for (int r = 0; r < rows; r++, d += PB, xr += (size_t)sh * W) {
			if (sw == 2) {
				split_row2(d, d + g->LP, xr, n, s->pl, xend);
				continue;
			}
			copy_rows(tmp + s->pl, 0, xr, 0, 1, n, xend);
			for (int rx = 0; rx < sw; rx++)
				for (int b = 0; b < PB; b++)
					d[(size_t)rx * g->LP + b] = tmp[b * sw + rx];
		}
	}
}

/*
 * o[i] = sum over k < K of wt[k] * x[i + off[k]] for i in [0, VL*V): the V
 * vectors of o stay in registers across all K taps.
 */
DW_INLINE void corr_block(float *restrict o, const float *restrict x, const int *restrict off,
			  const float *restrict wt, int K, const int V)
{
	vf acc[8];

#pragma GCC unroll 8
	for (int v = 0; v < V; v++)
		acc[v] = (vf){ 0 };
	for (int k = 0; k < K; k++) {
		const float *p = x + off[k];
		const float w = wt[k];

#pragma GCC unroll 8
		for (int v = 0; v < V; v++)
			acc[v] += VLOAD(p + VL * v) * w;
	}
#pragma GCC unroll 8
	for (int v = 0; v < V; v++)
		VSTORE(o + VL * v, acc[v]);
}

/* o[i] = sum over k < K of wt[k] * x[i + off[k]] for i in [0, VL*nv) */
DW_INLINE void corr(float *restrict o, const float *restrict x, const int *restrict off,
		    const float *restrict wt, int K, int nv)
{
	int v = 0;

	for (; v + 8 <= nv; v += 8)
		corr_block(o + VL * v, x + VL * v, off, wt, K, 8);
	o += VL * v;
	x += VL * v;
	switch (nv - v) {
	case 7: corr_block(o, x, off, wt, K, 7); break;
	case 6: corr_block(o, x, off, wt, K, 6); break;
	case 5: corr_block(o, x, off, wt, K, 5); break;
	case 4: corr_block(o, x, off, wt, K, 4); break;
	case 3: corr_block(o, x, off, wt, K, 3); break;
	case 2: corr_block(o, x, off, wt, K, 2); break;
	case 1: corr_block(o, x, off, wt, K, 1); break;
	}
}

/*
 * ad[j] (VL/2 doubles) += the lanes of sum over i < VL*nv of g[i] *
 * x[i + off[j]] for j < T: one float vector accumulator per tap over the
 * plane, its two halves added in double to the tap's double lanes, in a
 * fixed order.
 */
DW_INLINE void dot_block(double *restrict ad, const float *restrict g, const float *restrict x,
			 const int *restrict off, int nv, const int T)
{
	vf acc[8];

#pragma GCC unroll 8
	for (int j = 0; j < T; j++)
		acc[j] = (vf){ 0 };
	for (int i = 0; i < nv; i++) {
		vf gv = VLOAD(g + VL * i);

#pragma GCC unroll 8
		for (int j = 0; j < T; j++)
			acc[j] += gv * VLOAD(x + off[j] + VL * i);
	}
#pragma GCC unroll 8
	for (int j = 0; j < T; j++) {
		vh lo = __builtin_shufflevector(acc[j], acc[j], I_LO);
		vh hi = __builtin_shufflevector(acc[j], acc[j], I_HI);
		vd sum;

		memcpy(&sum, ad + VL / 2 * j, sizeof(sum));
		sum += __builtin_convertvector(lo, vd) + __builtin_convertvector(hi, vd);
		memcpy(ad + VL / 2 * j, &sum, sizeof(sum));
	}
}

/* the weight gradient of one plane: ad[t] (VL/2 doubles) += lanes of dot(Gflat, X + off[t]) */
DW_INLINE void dot_taps(double *restrict ad, const float *restrict gf, const float *restrict X,
			const struct dw_geom *g)
{
	const int nv = g->nf / VL;

	for (int b = 0; b < g->nblk; b++) {
		const int t = g->blk[b];
		const int *o = g->off + t;
		double *a = ad + VL / 2 * t;

		switch (g->blk[b + 1] - t) {
		case 8: dot_block(a, gf, X, o, nv, 8); break;
		case 7: dot_block(a, gf, X, o, nv, 7); break;
		case 6: dot_block(a, gf, X, o, nv, 6); break;
		case 5: dot_block(a, gf, X, o, nv, 5); break;
		case 4: dot_block(a, gf, X, o, nv, 4); break;
		case 3: dot_block(a, gf, X, o, nv, 3); break;
		case 2: dot_block(a, gf, X, o, nv, 2); break;
		default: dot_block(a, gf, X, o, nv, 1); break;
		}
	}
}

/*
 * One plane: o (OH, OW) from x (H, W) through the phase planes X and the
 * flat output of (nf + VMAX). wc (kh*kw) is the channel's kernel.
 */
static DW_TARGET void plane_forward(float *restrict o, const float *restrict x,
				    const float *xend, const float *restrict wc,
				    const struct conv_shape *s, const struct dw_geom *g,
				    float *restrict X, float *restrict tmp, float *restrict of)
{
	fill_phases(X, tmp, x, xend, s, g);
	corr(of, X, g->off, wc, g->KK, g->nf / VL);
	flat_to_dense(o, of, g->PB, s->OW, s->OH, 0);
}

/*
 * One plane of one channel. G (LG) gets dout plane dy (OH, OW) at (QY, QX);
 * if ad, X gets the phase planes of x and ad (KK, VL/2) += the plane's dw
 * lanes; if dx (H, W), it gets += the input gradient: each phase correlated
 * into D (nph, LP), then for stride 1 read straight from D, else first
 * interleaved into the padded full-resolution rows T (H, TP). wd holds the
 * kernel in the order of g->dtap.
 */
static DW_TARGET void plane_backward(float *restrict dx, double *restrict ad,
				     const float *restrict dy, const float *restrict x,
				     const float *xend, const float *restrict wd,
				     const struct conv_shape *s, const struct dw_geom *g,
				     float *restrict X, float *restrict G, float *restrict D,
				     float *restrict tmp, float *restrict T)
{
	const int H = s->H, W = s->W, PB = g->PB, sh = s->sh, sw = s->sw, TP = g->TP;

	copy_rows(G + (size_t)g->QY * PB + g->QX, PB, dy, s->OW, s->OH, s->OW, dy + s->OH * s->OW);
	if (ad) {
		fill_phases(X, tmp, x, xend, s, g);
		dot_taps(ad, G + (size_t)g->QY * PB + g->QX, X, g);
	}
	if (!dx)
		return;
	for (int p = 0; p < g->nph; p++) {
		const int ry = p / sw, k0 = g->dfirst[p], nk = g->dfirst[p + 1] - k0;
		const int rows = g->a1[ry] - g->a0[ry];

		if (nk > 0 && rows > 0)
			corr(D + (size_t)p * g->LP, G + (size_t)g->a0[ry] * PB, g->doff + k0,
			     wd + k0, nk, round16(rows * PB) / VL);
	}
	if (g->direct) {   /* stride 1: D row y is padded row y + pt */
		flat_to_dense(dx, D + s->pl, PB, W, H, 1);
		return;
	}
	for (int y = 0; y < H; y++) {
		const int r = y + s->pt, a = r / sh, ry = r % sh;
		const float *src = D + (size_t)ry * sw * g->LP + (size_t)(a - g->a0[ry]) * PB;
		float *t = T + (size_t)y * TP;

		if (a >= g->a1[ry])
			for (int c = 0; c < TP; c++)
				t[c] = 0;
		else if (sw == 1)
			memcpy(t, src, sizeof(*t) * PB);
		else if (sw == 2)
			interleave2(t, src, src + g->LP, round16(PB) / VL);
		else
			for (int c = 0; c < sw * PB; c++)
				t[c] = src[(size_t)(c % sw) * g->LP + c / sw];
		for (int c = sw * PB; c < TP; c++)   /* columns no tap reaches (VALID) */
			t[c] = 0;
	}
	flat_to_dense(dx, T + s->pl, TP, W, H, 1);
}

#undef vf
#undef vi
#undef vh
#undef vd
#undef copy_rows
#undef dense_gather
#undef dense_m
#undef dense_span
#undef flat_to_dense
#undef split_row2
#undef interleave2
#undef fill_phases
#undef corr_block
#undef corr
#undef dot_block
#undef dot_taps
#undef plane_forward
#undef plane_backward
#undef I_ALL
#undef I_EVEN
#undef I_ODD
#undef I_ZIPLO
#undef I_ZIPHI
#undef I_LO
#undef I_HI
#undef VLOAD
#undef VSTORE
#undef LANES
#undef SELECT
#undef DW_INLINE

#endif /* DW_PASS */
