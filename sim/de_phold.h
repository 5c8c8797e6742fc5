/* de_phold.h — the PHOLD benchmark model on the engine, doing the same work as
 * ROSS's models/phold so that the two engines can be compared side by side.
 *
 * N logical processes (LPs) each start with P events at lookahead + Exp(mean -
 * lookahead). On each event the LP draws u from its own stream; if u <= remote the
 * destination is uniform over all N LPs (itself included), else itself; the new
 * event is at now + lookahead + Exp(mean - lookahead), and is not queued at or
 * past `end`. The count is of events processed (all have timestamp < end). */
#ifndef DE_PHOLD_H
#define DE_PHOLD_H

#include <stddef.h>
#include <stdint.h>

#include "de_error.h"

typedef struct de_phold_opts {
    uint32_t lps;          /* N >= 1 */
    uint32_t events_per_lp;/* P >= 1 */
    double end;            /* > 0 */
    double lookahead;      /* >= 0 */
    double mean;           /* > lookahead: total mean delay */
    double remote;         /* [0, 1] */
    unsigned long seed;
} de_phold_opts;

typedef struct de_phold_result {
    uint64_t events;       /* processed, timestamp < end */
    uint64_t remote_events;/* of which sent to another LP */
    double wall_s;         /* run time (setup excluded) */
    double setup_s;        /* LP and initial event creation */
    size_t queue_bytes;    /* engine queue at its largest */
} de_phold_result;

void de_phold_defaults(de_phold_opts *o);
int de_phold_run(const de_phold_opts *o, de_phold_result *res, de_err *err);

#endif
