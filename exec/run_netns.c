/* run_netns.c — `deepedge run --links netns`: one network namespace per scenario device
 * as its host, its link shaped with tc (scripts/netns-hosts.sh); run_internal.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "de_util.h"
#include "run_internal.h"

/* Runs `netns-hosts.sh ARGS`, stdout into *out (may be NULL); 0 on success. */
static int netns_script(run *r, const char *args, char **out, de_err *err)
{
    const char *dir = getenv("DEEPEDGE_SCRIPTS") ? getenv("DEEPEDGE_SCRIPTS") : DE_SCRIPTS_DIR;
    char *log = de_path_join(r->o->out_dir, "netns.log");
    char *cmd = de_sprintf("'%s/netns-hosts.sh' %s 2>>'%s'", dir, args, log);
    FILE *p = popen(cmd, "r");
    char buf[4096] = "";
    size_t n = p ? fread(buf, 1, sizeof buf - 1, p) : 0;
    buf[n] = '\0';
    int st = p ? pclose(p) : -1;
    int rc = DE_OK;
    if (st != 0) {
        char tail[600];
        rc = de_err_set(err, DE_EIO,
                        "--links netns: %s/netns-hosts.sh failed (needs root, ip netns and tc); %s ends with:\n%s", dir,
                        log, run_tail_of(log, tail, sizeof tail));
    } else if (out) {
        buf[strcspn(buf, "\n")] = '\0';
        *out = de_strdup(buf);
    }
    free(cmd);
    free(log);
    return rc;
}

/* `netns-hosts.sh up` for every device with its link's current bandwidth (times the
 * state's link factor); re-running it re-shapes the links (the script converges). */
static int netns_up_args(run *r, char **out, de_err *err)
{
    const de_scenario *s = r->s;
    char *args = de_sprintf("up --prefix %s --hosts %d --subnet %s --hostfile '%s/netns.hosts'", r->ns_prefix,
                            s->n_devices, r->ns_subnet, r->o->out_dir);
    for (int d = 0; d < s->n_devices; d++) {
        int li = s->devices[d].link;
        const de_link *l = &s->links[li];
        char *a2 = de_sprintf("%s --link %d:%g:%g", args, d, l->bandwidth_Bps * 8e-6 * r->st.link_factor[li],
                              l->latency_s * 1e3);
        free(args);
        args = a2;
    }
    int rc = netns_script(r, args, out, err);
    free(args);
    return rc;
}

int run_netns_shape(run *r, de_err *err)
{
    char *out = NULL;
    int rc = netns_up_args(r, &out, err);
    free(out);
    return rc;
}

int run_netns_up(run *r, de_err *err)
{
    const de_scenario *s = r->s;
    /* the coordinator's pid in the name: the namespaces of one that died can be found */
    snprintf(r->ns_prefix, sizeof r->ns_prefix, "dr%ldx", (long)getpid());
    snprintf(r->ns_subnet, sizeof r->ns_subnet, "10.%d.%d", 80 + (int)(getpid() % 40), (int)(getpid() / 40 % 250));
    char *out = NULL;
    int rc = netns_up_args(r, &out, err);
    if (rc)
        return rc;
    /* drop the script's own --hostfile: each launch names its hosts itself */
    char *clean = de_strdup("");
    int skip = 0;
    for (char *tok = strtok(out, " "); tok; tok = strtok(NULL, " ")) {
        if (skip) {
            skip = 0;
            continue;
        }
        if (strcmp(tok, "--hostfile") == 0) {
            skip = 1;
            continue;
        }
        char *c2 = de_sprintf("%s%s%s", clean, clean[0] ? " " : "", tok);
        free(clean);
        clean = c2;
    }
    free(out);
    r->ns_args = clean;
    r->netns = 1;
    run_event(r, "emulation", "%d network namespaces %s0..%d on %s.0/24, links shaped with tc", s->n_devices,
              r->ns_prefix, s->n_devices - 1, r->ns_subnet);
    return DE_OK;
}

void run_netns_down(run *r)
{
    if (!r->netns)
        return;
    char *args = de_sprintf("down --prefix %s --kill", r->ns_prefix);
    de_err nerr;
    netns_script(r, args, NULL, &nerr);
    free(args);
    r->netns = 0;
}

int run_netns_sweep(run *r)
{
    FILE *p = geteuid() == 0 ? popen("ip netns list 2>/dev/null", "r") : NULL;
    char line[256], seen[64][16];
    int n = 0, ns = 0;
    while (p && fgets(line, sizeof line, p)) {
        long pid;
        int k = 0;
        if (sscanf(line, "dr%ldx%*d%n", &pid, &k) != 1 || !k || de_pid_alive(pid))
            continue;
        char prefix[16];
        snprintf(prefix, sizeof prefix, "dr%ldx", pid);
        int dup = 0;
        for (int i = 0; i < ns; i++)
            dup |= strcmp(seen[i], prefix) == 0;
        if (dup || ns == 64)
            continue;
        memcpy(seen[ns++], prefix, sizeof prefix);
    }
    if (p)
        pclose(p);
    for (int i = 0; i < ns; i++) {
        char *args = de_sprintf("down --prefix %s --kill", seen[i]);
        de_err nerr;
        n += netns_script(r, args, NULL, &nerr) == DE_OK;
        free(args);
    }
    return n;
}
