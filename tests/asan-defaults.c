/*
 * asan-defaults.c - linked into every binary of the sanitizer build only
 * (pipelines/asan.mk): the sanitizers' default options and the leak
 * suppressions, compiled in so that they hold wherever the binary runs, also
 * where the environment is not passed on (children started over ssh by GNU
 * parallel in t0810). ASAN_OPTIONS, UBSAN_OPTIONS and LSAN_OPTIONS, when set,
 * are read after these and win.
 */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);
const char *__lsan_default_options(void);
const char *__lsan_default_suppressions(void);

const char *__asan_default_options(void)
{
	return "detect_leaks=1:verify_asan_link_order=0";
}

/* a UBSan finding stops the program: a test then fails, not just a log line */
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

/*
 * Leaks inside OpenBLAS, HDF5 and libgomp are theirs; ours are not
 * suppressed. (A suppressed leak still costs a process ~0.3 s at exit, to
 * symbolise its stack: the suite runs thousands of processes.)
 */
const char *__lsan_default_suppressions(void)
{
	return "leak:libopenblas\nleak:libhdf5\nleak:libgomp\n";
}
