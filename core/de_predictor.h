/* de_predictor.h — the prediction interface the planners call.
 *
 * A predictor is a table of three functions: the training step time of a local
 * batch on a device under its current LC load, the latency percentiles of the LC
 * tasks on a device while it trains, and the all-reduce time over a set of
 * devices. The catalog's model forms (de_predictor_model) are one implementation;
 * the simulator and the executor's measurements plug in behind the same calls,
 * so that every planner sees the world through this one interface. */
#ifndef DE_PREDICTOR_H
#define DE_PREDICTOR_H

#include "de_state.h"

typedef struct de_predictor_ops {
    const char *name;
    /* Step time (s) of a local batch (>= 1) of `network` on device dev, with the LC
     * load of st. Nondecreasing in batch. INFINITY when the device cannot train
     * (its LC load saturates it). */
    double (*step_time)(void *ctx, const de_state *st, int dev, int network, int batch);
    /* Latency percentile (s) of each LC task on dev, in the order
     * st->scen->dev_tasks[dev_task_start[dev] ..], written to out, while training
     * `network` there with local batch `batch` (0: not training) at duty cycle
     * duty in [0,1]. Nondecreasing in batch and duty. INFINITY: unstable queue. */
    void (*lc_latency)(void *ctx, const de_state *st, int dev, int network, int batch, double duty, double *out);
    /* All-reduce time (s) of `bytes` over devs[0..n-1]; 0 for n <= 1. */
    double (*allreduce_time)(void *ctx, const de_state *st, const int *devs, int n, double bytes);
    /* Optional (NULL: planners use lc_latency): for each LC task on dev (same order),
     * the probability that a request is served within limit[k] seconds, under the
     * same conditions as lc_latency; latency <= limit exactly when the probability
     * >= the task's percentile. A cheaper test for planners' inner loops. */
    void (*lc_within)(void *ctx, const de_state *st, int dev, int network, int batch, double duty,
                      const double *limit, double *prob);
} de_predictor_ops;

typedef struct de_predictor {
    const de_predictor_ops *ops;
    void *ctx;
} de_predictor;

/* The catalog's model forms (models/de_model.h), parameters from st's scenario catalog. */
de_predictor de_predictor_model(void);

/* The mean service time (s) the catalog's model gives LC task ti's requests while its
 * device trains `network` with local batch `batch` (0: not training) at duty cycle duty:
 * s (1 + duty lc_inflation) + duty m (de_model.h), with st's speed and step factor, and
 * its LC factor when `corrected`. What a measured mean service time is compared with
 * (de_correct.h). */
double de_predictor_lc_service_mean(const de_state *st, int ti, int network, int batch, double duty, int corrected);

/* The all-reduce parameters the model predictor uses for a device set: alpha is the
 * sum of the two largest link latencies (a message crosses two links through the
 * switch; the ring step is as slow as its slowest hop), beta the smallest
 * bandwidth (times each link's factor in st). When every device of the set is on a link
 * of one measured class (de_link.cls) that has a fit at n ranks, alpha and beta are that
 * fit's (beta times the links' smallest factor): the transport as calibrate measured it
 * at this rank count. */
void de_predictor_ring_params(const de_state *st, const int *devs, int n, double *alpha_s, double *beta_Bps);

#endif
