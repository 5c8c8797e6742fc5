/* cmd_inject.c — `deepedge inject SPEC... [--out DIR]` and `deepedge admit DEVICE... [--out
 * DIR]`: changes of the world told to a run that is going on, through its inbox
 * (OUT/inbox, exec/run_recover.c): a repaired device re-admitted, a device taken out, a
 * slowdown, a new LC rate. The run parses each line against its scenario, applies it now
 * (or at @WHEN) and decides with the shared re-plan rule; this command waits up to 10 s
 * for the run's answer in its events.csv and prints it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "de_util.h"

static void inject_help(FILE *out, const char *cmd)
{
    if (strcmp(cmd, "admit") == 0)
        fprintf(out, "usage: deepedge admit DEVICE... [--out DIR]\n\n"
                     "Re-admits repaired devices into the run whose outputs are in DIR (default out/run):\n"
                     "the same as `deepedge inject repair:DEVICE`. The run restarts the device's LC services\n"
                     "and re-plans with the shared re-plan rule (the device takes a share again when that is\n"
                     "predicted faster by planner.switch_gain, costs included).\n"
                     "Exit status: 0 every change accepted, 1 otherwise (the run's reason is printed).\n");
    else
        fprintf(out, "usage: deepedge inject SPEC... [--out DIR]\n\n"
                     "Tells a run that is going on (outputs in DIR, default out/run) about changes of the\n"
                     "world, in the syntax of `deepedge run --inject` (`deepedge sim --inject list`):\n"
                     "  repair:DEV  crash:DEV  slowdown:DEV*F  link-degrade:LINK*F  lc-rate:TASK=R\n"
                     "without @WHEN a change is due now. They are appended to DIR/inbox, which only who may\n"
                     "write DIR may write; the run checks each against its scenario and applies it.\n"
                     "Exit status: 0 every change accepted, 1 otherwise (the run's reason is printed).\n");
}

/* The run's answer to a line: its "inbox" event in events.csv, within 10 s. */
static int answer(const char *events, const char *line)
{
    char want_ok[600], want_no[600];
    snprintf(want_ok, sizeof want_ok, "accepted '%s'", line);
    snprintf(want_no, sizeof want_no, "refused '%s'", line);
    for (int i = 0; i < 100; i++) {
        char *text = de_file_read(events, NULL);
        char *hit = text ? strstr(text, want_ok) : NULL;
        char *bad = text ? strstr(text, want_no) : NULL;
        if (hit || bad) {
            char *eol = strchr(bad ? bad : hit, '\n');
            if (eol)
                *eol = '\0';
            printf("%s: %s\n", line, bad ? bad : hit);
            free(text);
            return bad ? DE_EXIT_ERROR : DE_EXIT_OK;
        }
        free(text);
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "deepedge: %s: no answer from the run within 10 s (is it still running?)\n", line);
    return DE_EXIT_ERROR;
}

int de_cmd_inject(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *cmd = argv[0], *dir = "out/run";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'o': dir = optarg; break;
        case 'h': inject_help(stdout, cmd); return DE_EXIT_OK;
        default: inject_help(stderr, cmd); return DE_EXIT_ERROR;
        }
    }
    if (optind >= argc) {
        inject_help(stderr, cmd);
        return DE_EXIT_ERROR;
    }
    char *inbox = de_path_join(dir, "inbox"), *events = de_path_join(dir, "events.csv");
    int rc = DE_EXIT_OK;
    int fd = open(inbox, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
        rc = de_cli_fail("%s: %s (no run is going on with its outputs in %s; --out DIR names another)", inbox,
                         strerror(errno), dir);
        goto out;
    }
    for (int i = optind; i < argc && fd >= 0; i++) {
        char line[512];
        int n = snprintf(line, sizeof line, "%s%s\n", strcmp(cmd, "admit") == 0 ? "repair:" : "", argv[i]);
        if (n <= 0 || (size_t)n >= sizeof line || strchr(argv[i], '\n')) {
            rc = de_cli_fail("'%s': not one line of at most %zu bytes", argv[i], sizeof line - 2);
            break;
        }
        if (write(fd, line, (size_t)n) != n) { /* one write: whole lines even with other writers */
            rc = de_cli_fail("%s: %s", inbox, strerror(errno));
            break;
        }
        line[n - 1] = '\0';
        if (answer(events, line))
            rc = DE_EXIT_ERROR;
    }
    close(fd);
out:
    free(inbox);
    free(events);
    return rc;
}
