/* de_links.h — measured link classes of the catalog (models/links/NAME.cfg).
 *
 * `deepedge calibrate` measures the ring all-reduce on a transport of a host and writes
 * it as a link class: the pooled fit as a link (latency = alpha / 2, so that a device
 * pair's alpha is the sum of their latencies) and alpha and beta fitted at each rank
 * count alone. A scenario's link names a class with `class` (core/de_scenario.h); the
 * predictor's all-reduce over devices all on links of one class takes the class's fit
 * at that rank count (core/de_predictor.c, de_predictor_ring_params). */
#ifndef DE_LINKS_H
#define DE_LINKS_H

#include <stdio.h>

#include "de_error.h"

typedef struct de_link_rank {
    int ranks;
    double alpha_s, beta_Bps;
} de_link_rank;

typedef struct de_link_class {
    char *name;
    double bandwidth_Bps, latency_s; /* the pooled fit */
    de_link_rank *per_ranks;         /* sorted by ranks */
    int n_per_ranks;
    char *measured_cpu;              /* the host it was measured on (NULL: not said) */
    int measured_cores;
} de_link_class;

/* Reads one link-class file (<class>.cfg; its link.name must be <class>) into *c; on
 * failure *c is empty and err names the file, line and key. */
int de_link_class_load(const char *path, de_link_class *c, de_err *err);
void de_link_class_free(de_link_class *c);

/* Every DIR/ *.cfg (none when the folder does not exist), sorted by name, into *out[*n];
 * *paths[*n]: the files read, the caller's (also on failure, up to the failing one). */
int de_link_classes_load(const char *dir, de_link_class **out, int *n, char ***paths, de_err *err);

/* The fit of class c at exactly `ranks` ranks; NULL when it has none. */
const de_link_rank *de_link_class_at(const de_link_class *c, int ranks);

/* Prints the key tables of links/NAME.cfg (documentation). */
void de_link_class_print_keys(FILE *out);

#endif
