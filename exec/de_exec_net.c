/* de_exec_net.c — catalog entries to the engine's networks (see de_exec_net.h). */
#include "de_exec_net.h"

#include <math.h>

int de_exec_network(const de_network *nw, int classes, de_net **out, de_err *err)
{
    *out = NULL;
    int rc = de_net_builtin(nw->architecture, classes, out, err);
    if (rc)
        return de_err_set(err, rc, "network '%s': architecture '%s' is not one the executor builds (%s)", nw->name,
                          nw->architecture, de_net_builtin_list());
    if (nw->freeze[0] && (rc = de_net_freeze(*out, nw->freeze, err))) {
        de_net_destroy(*out);
        *out = NULL;
        return de_err_set(err, rc, "network '%s': freeze '%s': %s", nw->name, nw->freeze, err->msg);
    }
    return DE_OK;
}

int de_exec_lc_model(const de_lc_model *m, int classes, de_net **out, de_err *err)
{
    *out = NULL;
    int rc = de_net_builtin(m->architecture, classes, out, err);
    if (rc)
        return de_err_set(err, rc, "LC model '%s': architecture '%s' is not one the executor serves (%s)", m->name,
                          m->architecture, de_net_builtin_list());
    return DE_OK;
}

int de_exec_load_weights(de_net *net, const char *path, de_err *err)
{
    int loaded = 0, rc = de_net_load_weights(net, path, 1, &loaded, err);
    if (rc)
        return de_err_set(err, rc, "exec.weights: %s", err->msg);
    if (loaded == 0)
        return de_err_set(err, DE_EMISMATCH, "exec.weights: %s: no layer matches network %s (weights of another network?)",
                          path, de_net_name(net));
    return DE_OK;
}

static int check_flops(const char *what, const char *name, double stated, const de_net *net, de_err *err)
{
    double f = de_net_flops(net);
    if (stated > 0 && fabs(f - stated) > 0.005 * stated)
        return de_err_set(err, DE_EMISMATCH,
                          "%s '%s': the catalog states %.4g GFLOP per forward pass, the executor's network has %.4g",
                          what, name, stated / 1e9, f / 1e9);
    return DE_OK;
}

int de_exec_check_network(const de_network *nw, de_err *err)
{
    de_net *net;
    int rc = de_exec_network(nw, 0, &net, err);
    if (rc)
        return rc;
    double np = (double)de_net_n_params(net), nt = (double)de_net_n_trainable(net);
    if (np != nw->parameters)
        rc = de_err_set(err, DE_EMISMATCH, "network '%s': the catalog has %.0f parameters, the executor's %s has %.0f",
                        nw->name, nw->parameters, nw->architecture, np);
    else if (nt != nw->trainable_parameters)
        rc = de_err_set(err, DE_EMISMATCH,
                        "network '%s': the catalog all-reduces %.0f trainable parameters, the executor's %s (freeze "
                        "'%s') updates %.0f",
                        nw->name, nw->trainable_parameters, nw->architecture, nw->freeze, nt);
    else
        rc = check_flops("network", nw->name, nw->forward_flops, net, err);
    de_net_destroy(net);
    return rc;
}

int de_exec_check_lc_model(const de_lc_model *m, de_err *err)
{
    de_net *net;
    int rc = de_exec_lc_model(m, 0, &net, err);
    if (rc)
        return rc;
    rc = check_flops("LC model", m->name, m->forward_flops, net, err);
    de_net_destroy(net);
    return rc;
}
