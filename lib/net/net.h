/*
 * net.h - a whole child network (stem, cells, head, optional aux head)
 * compiled into a flat tape of steps over plain NCHW float buffers.
 *
 * Building: net_create() turns a genotype and a macro configuration into a
 * tape (lib/net/cell.c holds the 13 ops and the cell plumbing, TF semantics of
 * nasnet-facts.md 1.2-1.3 and 3). Each step names its input tensors, its
 * output tensor, its parameters and its geometry. Counting (params,
 * mult_adds, the per-module table) needs only the tape, so a network built
 * with batch 0 and no rng allocates nothing but the tape: the 224x224 mobile
 * model counts instantly.
 *
 * Memory: one allocation for all parameters (named views, `struct
 * net_param`), one for their gradients (same layout), one for the BN running
 * statistics ("buffers", also named views; saved, not trained), and one
 * activation arena holding the value and the gradient of every tensor plus
 * the per-example saved state (max-pool argmax, drop-path and dropout
 * masks), sized once per batch by net_set_batch(). Tensor memory is planned
 * from lifetimes: a value is kept only while later steps or a backward step
 * read it, a gradient only between its first and last backward use, so only
 * the input(s), output and logits of net_value / net_dvalue stay readable
 * after a forward / backward. A workspace shared by all
 * steps is sized to the largest need. Nothing is allocated per step.
 *
 * Calling sequence of a training step:
 *
 *   struct net *n = net_create(&g, &m, 64, &init_rng);   // NULL on error
 *   net_set_loss(n, 0.4f, 0.1f);        // aux weight, label smoothing
 *   net_forward(n, images, labels, 1, keep, t, &drop_rng, &loss);
 *   net_backward(n);                    // zeroes all grads, then accumulates
 *   ... optimizer over net_params(n) / net_grads(n), net->nparam_floats ...
 *   net_free(n);
 *
 * Evaluation: net_forward(n, images, NULL, 0, 1, 0, NULL, NULL) then
 * net_logits(n) (B, classes). BN uses batch statistics (and updates the
 * running statistics) when `train` is set, else the running statistics.
 * The aux head runs only when training with a positive aux weight.
 *
 * Drop path (ScheduledDropPath, TF "v3"): the op outputs of the cell with
 * depth index c (stem cells included) are kept with probability
 *   keep = 1 - t * (c+1)/T * (1 - keep_final),
 * T = 3N+2 (CIFAR stem) or 3N+4 (ImageNet stem), t = progress in [0, 1].
 */
#ifndef NASNET_NET_H
#define NASNET_NET_H

#include <stddef.h>
#include <stdint.h>

#include "childcfg.h"
#include "genotype.h"
#include "ops.h"

struct rng;

enum step_kind {
	STEP_CONV,      /* p[0] = w (K,C,kh,kw) */
	STEP_DWCONV,    /* p[0] = w (C,1,kh,kw) */
	STEP_BN,        /* p[0] = gamma, p[1] = beta; b[0], b[1] = running mean, var */
	STEP_RELU,
	STEP_ADD,       /* in[0] + in[1] */
	STEP_CONCAT,    /* channels of in[0..nin) */
	STEP_AVGPOOL,   /* SAME (pads not counted) or VALID (aux head) */
	STEP_MAXPOOL,
	STEP_FACTRED,   /* p[0] = w1, p[1] = w2, both (F/2, C): no ReLU, no BN inside */
	STEP_GAP,
	STEP_LINEAR,    /* p[0] = w (O,I), p[1] = b (O) */
	STEP_DROPPATH,  /* per example, keep from the schedule of cell `depth` */
	STEP_DROPOUT,   /* keep = macro dropout_keep */
	STEP_KINDS
};

enum param_kind {
	PARAM_WEIGHT,    /* conv / depthwise / FC weights: L2-decayed */
	PARAM_BN_GAMMA,
	PARAM_BN_BETA,
	PARAM_BIAS,
	PARAM_BN_MEAN,   /* buffers (not trained) */
	PARAM_BN_VAR,
};

#define NET_NAME_MAX 96
#define NET_MAX_IN GENOTYPE_MAX_STATES

/* A named view into the parameter (or buffer) allocation. */
struct net_param {
	char name[NET_NAME_MAX];  /* "cell_3/block_1/op_a/sep_1/dw", "fc/w", ... */
	int rank;
	int dims[4];
	size_t offset, count;     /* in floats */
	int kind;                 /* enum param_kind */
	int aux;                  /* belongs to the aux head (not in `params`) */
	int module;
	int fan_out;              /* He init: std = sqrt(2 / fan_out) (weights only) */
};

/* An activation: (C, H, W) per example. Its value lives at off * B in the
 * value arena and its gradient at goff * B in the gradient arena; tensors
 * whose lifetimes do not overlap share memory (net.c plans the offsets). */
struct net_tensor {
	int C, H, W;
	size_t off;   /* per-example offset in floats of the value */
	size_t goff;  /* per-example offset in floats of the gradient, and of the
		       * value in net_infer's forward-only arenas (same lifetime) */
	int last_use; /* last step reading it (nsteps: none); its gradient is zeroed there */
	int aux;
};

struct net_step {
	int kind;
	int aux;                  /* aux head step: runs only with the aux loss */
	int depth;                /* DROPPATH: cell depth index c */
	int module;
	int nin;
	int in[NET_MAX_IN];
	int out;
	int p[2];                 /* parameter ids (-1 none) */
	int b[2];                 /* buffer ids (-1 none) */
	struct conv_shape cs;     /* geometry with N = 1; N is the batch at run time */
	size_t stat;              /* BN: offset of mean[C], rstd[C] in the stats array */
	size_t save;              /* per-example offset of argmax / masks in the save area */
};

/* One row of the per-module table (stem, cell_stem_0, cell_0, reduction_cell_0, fc, aux). */
struct net_module {
	char name[32];
	int out;          /* output tensor id (-1 for fc) */
	int64_t params;
	int64_t macs;
	int aux;
};

struct net {
	struct genotype geno;
	struct macro_config macro;

	/* the tape */
	int ntensors, nsteps, nparams, nbuffers, nmodules;
	int cap_tensors, cap_steps, cap_params, cap_buffers, cap_modules;
	struct net_tensor *tensors;
	struct net_step *steps;
	struct net_param *params;   /* trainable views into `param` */
	struct net_param *buffers;  /* BN running statistics views into `buffer` */
	struct net_module *modules;
	int input, logits, aux_logits;   /* tensor ids (aux_logits -1 without aux) */
	int input2;                      /* fragments: second input (h_{i-1}) or -1 */
	int output;                      /* logits, or a fragment's output tensor */
	int total_depth;                 /* T of the drop-path schedule */
	int64_t n_params, n_macs;        /* trainable (aux excluded), MACs per image (aux excluded) */
	double latency_ms[2];            /* build-net --latency, batch 1 and 64 (0: not measured) */

	/* sizes fixed by the tape */
	size_t nparam_floats, nbuffer_floats, nstat_floats;
	size_t act_per_example;     /* floats of tensor values per example */
	size_t grad_per_example;    /* floats of tensor gradients per example */
	size_t save_per_example;    /* floats of per-example saved state */
	size_t work_per_example, work_fixed; /* workspace = fixed + per_example * B, max over steps */

	/* memory (NULL when not allocated) */
	float *param, *grad, *buffer, *stat;
	float *act, *dact, *save, *work;
	float *probs, *aux_probs;   /* (B, classes) */
	int batch, cap_batch;
	size_t work_floats;
	int work_threads;           /* workspace slots (threads) of `work` */
	float *infer_mem;           /* net_infer's per-thread arenas, saves and workspaces */
	int infer_threads;          /* threads infer_mem is sized for */
	size_t infer_per;           /* floats of one thread's part of infer_mem */
	int split;                  /* slices of the last net_forward (1: the whole batch) */
	float *split_mem;           /* BN parts, private gradients, slice workspaces (net.c) */
	int split_threads, split_batch;  /* what split_mem is sized for */
	size_t split_stride;        /* doubles of one BN part */
	size_t split_work, split_per;    /* floats of a slice's workspace, of all its own memory */
	float *gather;              /* (2, B, classes): logits and aux logits of the slices */

	/* run state */
	const int32_t *labels;
	int aux_active, trained;
	float aux_weight, label_smoothing;
	float loss_main, loss_aux;
	int need_input_grad;        /* backward also fills the image gradient (tests) */

	/* construction state (lib/net/cell.c) */
	int cur_module, cur_aux;
	int *relu_of;               /* tensor -> its shared ReLU tensor (-1 none) */
};

/*
 * Build the network. batch 0 = plan only (no activations); parameters are
 * allocated when batch > 0 or init != NULL, and initialised from init (He
 * fan-out normal, BN gamma 1 beta 0, running var 1). Returns NULL after an
 * error() naming the problem (bad genotype, odd filters for a factorized
 * reduction, input too small, ...).
 */
struct net *net_create(const struct genotype *g, const struct macro_config *m, int batch,
		       struct rng *init);
void net_free(struct net *n);
/* Allocate parameters, gradients and buffers if not yet (zero params, BN defaults). */
void net_alloc_params(struct net *n);
/* Deterministic initialisation of every parameter and buffer. */
void net_init_params(struct net *n, struct rng *r);
/* Size the activation arena for B examples (grows, never shrinks). */
void net_set_batch(struct net *n, int batch);

/* Loss configuration used by net_forward (reported loss) and net_backward. */
void net_set_loss(struct net *n, float aux_weight, float label_smoothing);
/*
 * images (B, C, H, W) normalised, B = current batch; labels (B) or NULL (no
 * loss). train: batch-norm batch statistics, dropout, drop path and aux head.
 * *loss (if non-NULL) = main loss + aux_weight * aux loss. Returns 0.
 */
int net_forward(struct net *n, const float *images, const int32_t *labels, int train,
		float drop_path_keep, float progress, struct rng *r, float *loss);
/*
 * Inference: logits (count, classes) of images (count, C, H, W) with BN
 * running statistics and no aux head, dropout or drop path -- the numbers of
 * net_forward(train = 0) up to the summation order of the classifier. The
 * images are split into fixed chunks of NET_INFER_CHUNK and the threads take
 * whole chunks through the whole network, so a chunk's activations stay in
 * cache, no thread waits for another between steps, and the result does not
 * depend on the thread count. Uses its own small arena: the batch arena is
 * neither needed nor touched (net_set_batch is not required). Returns 0.
 */
#define NET_INFER_CHUNK 16
int net_infer(struct net *n, const float *images, int count, float *logits);
/* Gradients of the last forward's loss (labels required): zeroes every grad first. */
void net_backward(struct net *n);
/* Backward from a given gradient of tensor `t` (B, C, H, W) instead of the loss
 * (fragments and tests): zeroes every grad, seeds dt = dout, runs the tape. */
void net_backward_from(struct net *n, int t, const float *dout);

/*
 * Fragments for tests: one op (input (B, C_in, H, W) -> op -> output) or one
 * cell (input = h_i, input2 = h_{i-1} when prev_c > 0, else none). Drop path
 * is on the tape (depth 0 of 1); BN momentum 0.1, eps 1e-3. The fragment's
 * forward takes images = h_i; write h_{i-1} into net_value(n, n->input2)
 * before net_forward. `output` is the result tensor.
 */
struct net *net_create_op(int op, int c_in, int h, int w, int filters, int stride, int batch,
			  struct rng *init);
struct net *net_create_cell(const struct cell *c, int reduce, int filters, int cur_c, int cur_h,
			    int cur_w, int prev_c, int prev_h, int prev_w, int batch,
			    struct rng *init);

/* (B, classes) logits of the last forward */
const float *net_logits(const struct net *n);
/*
 * Value / gradient of a tensor for the current batch (B, C, H, W). With
 * more than one OpenMP thread, a whole network (not a fragment, and without
 * need_input_grad) trains on a split batch: one slice of the batch per
 * thread, each slice in its own part of the arenas (net.c, "the
 * data-parallel step"). Then only the logits are readable (net_value of the
 * logits; NULL for any other tensor and for every gradient).
 */
float *net_value(const struct net *n, int tensor);
float *net_dvalue(const struct net *n, int tensor);

/* the keep probability of the drop path schedule for cell depth c */
float net_drop_path_keep(const struct net *n, int depth, float keep_final, float progress);

/* look up a parameter or buffer view by name (-1 if none) */
int net_param_find(const struct net *n, const char *name);
int net_buffer_find(const struct net *n, const char *name);

/* ---- graph construction (lib/net/cell.c builds the tape through these) ---- */
int net_add_tensor(struct net *n, int C, int H, int W);
int net_add_param(struct net *n, const char *name, int kind, int rank, const int *dims);
int net_add_buffer(struct net *n, const char *name, int kind, int C);
struct net_step *net_add_step(struct net *n, int kind, int out);
int net_add_module(struct net *n, const char *name);
/* the current module and aux flag new steps and params are tagged with */
void net_set_module(struct net *n, int module, int aux);
/* Build the whole tape (stem, cells, head, aux head) into an empty net. */
int net_build(struct net *n);
/* An empty net to build into, and the finishing pass (counts, allocation,
 * init) after a build returned `rc`; frees n and returns NULL when rc < 0. */
struct net *net_begin(void);
struct net *net_finish(struct net *n, int rc, int batch, struct rng *init);

#endif
