/* intake.c — fuzz target: the coordinator of `deepedge run` reading its peers' lines
 * (exec/run_intake.c). A coordinator is opened for a two-device scenario (everything but
 * processes and a port: run_open), a launch is marked as running, and four connections
 * (socket pairs, run_adopt) send the input's lines: a line starting with 0-3 goes to
 * that connection, "x" and a digit closes one, any other line goes to connection 0.
 * Connections 0-2 have answered the coordinator's challenge with the run secret, as the
 * run's own processes do; connection 3 has not (its first line meets the challenge). The
 * devices are placed on hosts (--hosts), where a hello's pid cannot be checked: the
 * intake's other rules are all that hold a forger back. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "de_fuzz.h"
#include "de_util.h"
#include "run_internal.h"

#define NCONN 4

static de_run_opts opts;
static pid_t standin; /* the launch's process group: a child that only waits */

static const char scenario_fmt[] =
    "name = \"fuzz-intake\";\n"
    "links = ( { name = \"lan\"; bandwidth_mbps = 1000.0; latency_ms = 0.1; } );\n"
    "devices = ( { name = \"dev-a\"; type = \"emu-cpu-100\"; link = \"lan\"; host = \"localhost\"; },\n"
    "            { name = \"dev-b\"; type = \"emu-cpu-050\"; link = \"lan\"; host = \"localhost\"; } );\n"
    "lc_tasks = ( { name = \"cam\"; device = \"dev-a\"; model = \"edgenet-s\"; rate = 20.0; deadline_ms = 400.0; } );\n"
    "jobs = ( { name = \"update\"; network = \"edgenet-s\"; dataset_size = 16; epochs = 4; global_batch = 8;\n"
    "           checkpoint_interval = 2; checkpoint_cost_s = 0.05; } );\n"
    "planner = { policy = \"proportional\"; };\n"
    "exec = { dataset = \"%s/ds\"; synthesize = true; synth_classes = 2; synth_per_class = 10; val_frac = 0.2;\n"
    "         lr = 0.005; seed = 3; };\n";

static void stop_standin(void)
{
    kill(-standin, SIGKILL);
    waitpid(standin, NULL, 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char *text = de_sprintf(scenario_fmt, de_fuzz_dir());
    static char scen[600], out[600];
    snprintf(scen, sizeof scen, "%s", de_fuzz_file("intake.cfg", text, strlen(text)));
    snprintf(out, sizeof out, "%s/run", de_fuzz_dir());
    free(text);
    de_run_opts_default(&opts);
    opts.scenario = scen;
    opts.out_dir = out;
    opts.use_hosts = 1;
    opts.quiet = getenv("DE_FUZZ_VERBOSE") == NULL; /* verbose: every event, refusals included */
    opts.plots = 0;
    opts.emulate = "none";
    opts.links = "none";
    standin = fork();
    if (standin < 0)
        de_fuzz_die("fork");
    if (standin == 0) { /* it dies with the target, even when a crash skips atexit */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(0);
        for (;;)
            pause();
    }
    setpgid(standin, standin);
    atexit(stop_standin);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    run *r = malloc(sizeof *r);
    run_init(r, &opts, NULL);
    de_err err;
    if (run_open(r, &err))
        de_fuzz_die("the coordinator does not open: %s", err.msg);
    /* a launch of the plan's ranks, as run_launch leaves it */
    r->launch = 1;
    r->mpi_pid = standin;
    r->launch_t = run_rel(r);
    r->crashed_dev = r->fail_dev = -1;
    int peer[NCONN];
    for (int i = 0; i < NCONN; i++) {
        int sv[2];
        run_conn *c;
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || !(c = run_adopt(r, sv[0])))
            de_fuzz_die("socketpair");
        peer[i] = sv[1];
        if (i < NCONN - 1) { /* these answer the challenge as the run's processes do */
            char mac[65], line[128];
            de_wire_mac(r->secret, c->nonce, mac);
            int k = snprintf(line, sizeof line, "auth mac=%s\n", mac);
            (void)!send(peer[i], line, (size_t)k, MSG_NOSIGNAL);
        }
    }
    for (size_t at = 0; at < n;) {
        const uint8_t *nl = memchr(data + at, '\n', n - at);
        size_t len = nl ? (size_t)(nl - (data + at)) + 1 : n - at;
        const uint8_t *p = data + at;
        int k = 0;
        if (len >= 2 && p[0] == 'x' && p[1] >= '0' && p[1] < '0' + NCONN) {
            k = p[1] - '0';
            if (peer[k] >= 0)
                close(peer[k]);
            peer[k] = -1;
        } else {
            if (p[0] >= '0' && p[0] < '0' + NCONN) {
                k = p[0] - '0';
                p++, len--;
            }
            if (peer[k] >= 0)
                (void)!send(peer[k], p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
        at = nl ? (size_t)(nl - data) + 1 : n;
        run_pump(r, 0);
    }
    for (int i = 0; i < NCONN; i++)
        if (peer[i] >= 0)
            close(peer[i]);
    run_pump(r, 0);
    run_free(r);
    free(r);
    return 0;
}
