/*
 * bench-net - time a network file's training steps or evaluation with the
 * nasnet-c engine (the C half of `make bench`; bench/torch_net.py is the
 * PyTorch half).
 *
 * One fixed batch of deterministic pseudo-random images (seeded normal
 * pixels) and labels is used for every step. A training step is
 * net_forward (train mode, no dropout, no drop path, no label smoothing,
 * no aux loss) + net_backward + SGD with momentum 0.9 (lr 0.01); an eval
 * step is net_infer (BN running statistics; what score and transfer use). After --warmup untimed
 * steps, --repeat steps are timed one by one and the median is reported:
 *
 *   bench-net: train threads 1 batch 64 img/s 123.4 ms 518.6 loss0 2.345678 rss-kb 81234 ...
 *
 * (cpu-ms, the median CPU time of a step over all threads, is what to watch
 * on a loaded machine.)
 *
 * loss0 is the loss of the first training forward (before any update), the
 * network-level parity check against PyTorch. --export PREFIX writes what the
 * PyTorch side needs to build the same graph: PREFIX.tape (one line per
 * tensor and step, see torch_net.py), PREFIX.x (float32 images) and PREFIX.y
 * (int32 labels), raw native-endian.
 */
#include "blas.h"
#include "cli.h"
#include "genofile.h"
#include "net.h"
#include "netfile.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum { OPT_BATCH = OPT_TOOL_BASE, OPT_MODE, OPT_WARMUP, OPT_REPEAT, OPT_EXPORT };

static const char *const kind_names[STEP_KINDS] = {
	"conv", "dwconv", "bn", "relu", "add", "concat", "avgpool", "maxpool", "factred",
	"gap", "linear", "droppath", "dropout",
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench-net [options] NET.h5\n"
		"Time training steps or evaluation of a network file with nasnet-c.\n"
		"  --mode M       train (default) or eval\n"
		"  --batch N      batch size (default 64)\n"
		"  --warmup N     untimed steps first (default 3)\n"
		"  --repeat N     timed steps, median reported (default 10)\n"
		"  --export P     write P.tape, P.x, P.y for bench/torch_net.py and exit\n"
		CLI_COMMON_HELP_TEXT
		"\n"
		CLI_EXIT_CODES_TEXT);
}

static const char *pname(const struct net *n, int id)
{
	return id >= 0 ? n->params[id].name : "-";
}

static const char *bname(const struct net *n, int id)
{
	return id >= 0 ? n->buffers[id].name : "-";
}

static int export_tape(const char *prefix, const struct net *n, const float *x,
		       const int32_t *y, int B)
{
	char path[4096];
	FILE *f;
	size_t per = (size_t)n->macro.in_c * n->macro.in_h * n->macro.in_w;

	snprintf(path, sizeof path, "%s.tape", prefix);
	if (!(f = fopen(path, "w")))
		return error("%s: cannot write", path);
	fprintf(f, "net input %d logits %d batch %d eps %.9g momentum %.9g\n", n->input, n->logits,
		B, (double)n->macro.bn_eps, (double)n->macro.bn_momentum);
	for (int t = 0; t < n->ntensors; t++)
		fprintf(f, "tensor %d %d %d %d\n", t, n->tensors[t].C, n->tensors[t].H,
			n->tensors[t].W);
	for (int i = 0; i < n->nsteps; i++) {
		const struct net_step *s = &n->steps[i];
		const struct conv_shape *c = &s->cs;

		if (s->aux)
			continue;
		fprintf(f, "step %s out %d p %s %s b %s %s cs %d %d %d %d %d %d %d %d %d in", kind_names[s->kind],
			s->out, pname(n, s->p[0]), pname(n, s->p[1]), bname(n, s->b[0]),
			bname(n, s->b[1]), c->kh, c->kw, c->sh, c->sw, c->dil, c->pt, c->pl, c->OH,
			c->OW);
		for (int k = 0; k < s->nin; k++)
			fprintf(f, " %d", s->in[k]);
		fprintf(f, "\n");
	}
	if (fclose(f))
		return error("%s: write failed", path);
	snprintf(path, sizeof path, "%s.x", prefix);
	if (!(f = fopen(path, "wb")) || fwrite(x, sizeof *x, per * B, f) != per * B || fclose(f))
		return error("%s: cannot write", path);
	snprintf(path, sizeof path, "%s.y", prefix);
	if (!(f = fopen(path, "wb")) || fwrite(y, sizeof *y, (size_t)B, f) != (size_t)B || fclose(f))
		return error("%s: cannot write", path);
	return 0;
}

static void sgd(struct net *n, float *mom, float lr)
{
	for (size_t i = 0; i < n->nparam_floats; i++) {
		mom[i] = 0.9f * mom[i] + n->grad[i];
		n->param[i] -= lr * mom[i];
	}
}

/* CPU seconds of this process (all threads): less sensitive to a loaded machine */
static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		CLI_COMMON_LONGOPTS,
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "warmup", required_argument, NULL, OPT_WARMUP },
		{ "repeat", required_argument, NULL, OPT_REPEAT },
		{ "export", required_argument, NULL, OPT_EXPORT },
		{ 0 }
	};
	struct cli c;
	struct genofile gf;
	struct net *n;
	struct rng r;
	long batch = 64, warmup = 3, repeat = 10;
	int train = 1, opt;
	const char *export = NULL;
	char blas[128];

	if (blas_select(argc, argv) < 0)
		return EXIT_FAIL;
	cli_init(&c, argc, argv, "bench-net");
	while ((opt = getopt_long(argc, argv, "hq", long_opts, NULL)) != -1) {
		switch (cli_common_option(&c, opt, optarg)) {
		case CLI_HANDLED:
			continue;
		case CLI_EXIT_OK:
			usage(stdout);
			return EXIT_OK;
		case CLI_BAD:
			usage(stderr);
			return EXIT_USAGE;
		case CLI_NOT_COMMON:
			break;
		}
		switch (opt) {
		case OPT_MODE:
			if (strcmp(optarg, "train") && strcmp(optarg, "eval")) {
				error("invalid --mode '%s'", optarg);
				return EXIT_USAGE;
			}
			train = !strcmp(optarg, "train");
			break;
		case OPT_BATCH:
		case OPT_WARMUP:
		case OPT_REPEAT: {
			long v;

			if (parse_long(optarg, opt == OPT_BATCH ? 1 : 0, 100000, &v) < 0) {
				error("invalid number '%s'", optarg);
				return EXIT_USAGE;
			}
			*(opt == OPT_BATCH ? &batch : opt == OPT_WARMUP ? &warmup : &repeat) = v;
			break;
		}
		case OPT_EXPORT:
			export = optarg;
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || repeat < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cli_apply_threads(&c);
	if (netfile_read_genofile(argv[optind], &gf) < 0)
		return EXIT_BADINPUT;
	/* eval needs no batch arena: net_infer brings its own small one */
	n = net_create(&gf.geno, &gf.cfg.macro, train ? (int)batch : 0, NULL);
	if (!n || netfile_read_into(argv[optind], n) < 0) {
		net_free(n);
		return EXIT_BADINPUT;
	}
	n->macro.dropout_keep = 1.0f;
	net_set_loss(n, 0.0f, 0.0f);

	size_t per = (size_t)n->macro.in_c * n->macro.in_h * n->macro.in_w;
	float *x = xmalloc(sizeof *x * per * (size_t)batch);
	int32_t *y = xmalloc(sizeof *y * (size_t)batch);

	rng_seed(&r, c.seed);
	for (size_t i = 0; i < per * (size_t)batch; i++)
		x[i] = (float)rng_normal(&r);
	for (long i = 0; i < batch; i++)
		y[i] = (int32_t)rng_below(&r, (uint64_t)n->macro.classes);
	if (export) {
		int rc = export_tape(export, n, x, y, (int)batch) < 0 ? EXIT_FAIL : EXIT_OK;

		free(x);
		free(y);
		net_free(n);
		return rc;
	}

	float *mom = xcalloc(n->nparam_floats + 1, sizeof *mom);
	float *logits = xmalloc(sizeof *logits * (size_t)batch * (size_t)n->macro.classes);
	float *probs = xmalloc(sizeof *probs * (size_t)batch * (size_t)n->macro.classes);
	double *t = xmalloc(sizeof *t * (size_t)repeat), *ct = xmalloc(sizeof *ct * (size_t)repeat);
	float loss0 = NAN, loss = 0;

	for (long i = 0; i < warmup + repeat; i++) {
		double t0 = now_seconds(), c0 = cpu_seconds();

		if (train) {
			net_forward(n, x, y, 1, 1.0f, 0.0f, NULL, &loss);
			if (i == 0)
				loss0 = loss;
			net_backward(n);
			sgd(n, mom, 0.01f);
		} else {
			net_infer(n, x, (int)batch, logits);
			if (i == 0)
				loss0 = softmax_xent_forward(probs, logits, y, (int)batch,
							     n->macro.classes, 0.0f);
		}
		if (i >= warmup) {
			t[i - warmup] = now_seconds() - t0;
			ct[i - warmup] = cpu_seconds() - c0;
		}
	}
	qsort(t, (size_t)repeat, sizeof *t, cmp_double);
	qsort(ct, (size_t)repeat, sizeof *ct, cmp_double);

	double med = repeat % 2 ? t[repeat / 2] : 0.5 * (t[repeat / 2 - 1] + t[repeat / 2]);
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	printf("bench-net: %s threads %d batch %ld img/s %.1f ms %.2f loss0 %.6f rss-kb %ld "
	       "cpu-ms %.2f macs %lld gflops %.2f blas %s\n",
	       train ? "train" : "eval", c.threads, batch, batch / med, med * 1e3, (double)loss0,
	       ru.ru_maxrss, ct[repeat / 2] * 1e3, (long long)n->n_macs,
	       (train ? 3.0 : 1.0) * 2.0 * (double)n->n_macs * batch / med / 1e9,
	       blas_describe(blas, sizeof blas));
	free(t);
	free(ct);
	free(mom);
	free(logits);
	free(probs);
	free(x);
	free(y);
	net_free(n);
	return EXIT_OK;
}
