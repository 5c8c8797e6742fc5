/* de_exec_net.h — the network the executor runs for a catalog entry: one place that maps
 * what the planner and the simulator believe (models/networks.cfg: parameters, trainable
 * parameters, FLOPs) onto what `deepedge run` trains and serves (train/de_net.h).
 *
 * A training network is its `architecture` (a built-in of the engine; absent: its name)
 * with the layers of `freeze` not updated; an LC model is its `architecture` run at batch 1
 * in inference mode. de_exec_check_network / _lc_model say whether the two agree: the
 * same parameter count, the same trainable count (what is all-reduced) and the same
 * forward FLOPs (where the catalog states them); tests/test_catalog.c checks every entry
 * of the bundled catalog. */
#ifndef DE_EXEC_NET_H
#define DE_EXEC_NET_H

#include "de_catalog.h"
#include "de_error.h"
#include "de_net.h"

/* The executor's network for a catalog training network: built, its layers frozen per
 * the entry, parameters zero (de_net_init). classes > 0 replaces the head's width.
 * DE_EREF when the engine has no such architecture, with a message naming the entry. */
int de_exec_network(const de_network *nw, int classes, de_net **out, de_err *err);
/* The same for an LC model. */
int de_exec_lc_model(const de_lc_model *m, int classes, de_net **out, de_err *err);

/* Loads a job's initial weights (exec.weights) onto net: every layer of the file whose
 * name, kind and sizes match; the others (a new head) keep their values. An error names
 * the file when it cannot be read or when no layer at all matches (another network). */
int de_exec_load_weights(de_net *net, const char *path, de_err *err);

/* DE_EMISMATCH (with the figures) when the executor's network differs from the entry:
 * parameters, trainable parameters, or forward FLOPs beyond 0.5 % where stated. */
int de_exec_check_network(const de_network *nw, de_err *err);
int de_exec_check_lc_model(const de_lc_model *m, de_err *err);

#endif
