/* rate_trace.c — fuzz target: an LC rate trace (CSV time_s,rate; de_rate_trace_load); an
 * accepted trace is read at every row's time, between rows and past its end. */
#include "de_fuzz.h"
#include "de_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    de_rate_trace *t = NULL;
    de_err err;
    int rc = de_rate_trace_load(de_fuzz_file("rate.csv", data, n), &t, &err);
    de_fuzz_verdict(rc, &err);
    if (rc == DE_OK) {
        double acc = de_rate_trace_peak(t);
        for (int i = 0; i < t->n; i++)
            acc += de_rate_trace_at(t, t->time_s[i]) + de_rate_trace_at(t, t->time_s[i] + 0.5);
        acc += de_rate_trace_at(t, -1.0) + de_rate_trace_at(t, 1e300);
        (void)acc;
    }
    de_rate_trace_destroy(t);
    return 0;
}
