/* de_generate.h — random heterogeneous scenarios from the catalog, for scale tests,
 * sweeps and property tests (`deepedge scenario generate`).
 *
 * Same options and seed ⇒ the same bytes. Devices draw their type uniformly from the
 * catalog and a link by kind (x86 boxes mostly wired 10G/1G, Jetsons 1G or Wi-Fi);
 * LC tasks go to random devices with a model the type serves, a rate giving a
 * random utilisation, and a deadline that is met with no training (a random factor
 * 1.25–6 above the no-training latency, divided by 1 - margin): some are tight
 * enough that training must avoid or throttle their device. */
#ifndef DE_GENERATE_H
#define DE_GENERATE_H

#include <stdio.h>

#include "de_catalog.h"
#include "de_scenario.h"

typedef struct de_gen_opts {
    int devices;            /* >= 1 */
    int lc_tasks;           /* >= 0; -1: devices / 2 */
    unsigned long seed;
    const char *network;    /* NULL: drawn (resnet50-ft or edgenet-s when present) */
    int global_batch;       /* 0: drawn from the network's usual sizes */
    double safety_margin;   /* written to the planner section */
    double max_rate;        /* > 0: cap on each LC task's request rate, req/s */
    const char *catalog;    /* written as the `catalog` key when not NULL */
} de_gen_opts;

void de_gen_opts_default(de_gen_opts *o);

/* Writes a scenario in the libconfig format of de_scenario.h. DE_EINVAL on bad
 * options (message in err). */
int de_generate(const de_catalog *cat, const de_gen_opts *o, FILE *out, de_err *err);

/* Generates a scenario from the catalog in catalog_dir and loads it from memory
 * (its name: "generated-N-SEED"). *out is owned by the caller. */
int de_generate_load(const char *catalog_dir, const de_gen_opts *o, de_scenario **out, de_err *err);

#endif
