/* cmd_scenario.c — `deepedge scenario generate|show|check|keys|catalog`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "de_catalog.h"
#include "de_generate.h"
#include "de_util.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: deepedge scenario SUBCOMMAND ...\n\n"
            "  generate --devices N [--lc-tasks M] [--seed S] [--network NET] [--batch B]\n"
            "           [--margin X] [--max-rate R] [--catalog DIR] -o FILE\n"
            "                      write a random heterogeneous scenario from the catalog (-o - : stdout)\n"
            "  show FILE [--catalog DIR]   print the resolved scenario (defaults included, with units)\n"
            "  check FILE [--catalog DIR]  validate only (exit 0 if valid)\n"
            "  keys                print the key tables of the scenario and catalog formats\n"
            "  catalog [DIR]       print the device catalog with the source of every number\n");
}

static int cmd_generate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"devices", required_argument, 0, 'd'}, {"lc-tasks", required_argument, 0, 'l'},
        {"seed", required_argument, 0, 's'},    {"network", required_argument, 0, 'n'},
        {"batch", required_argument, 0, 'b'},   {"margin", required_argument, 0, 'm'},
        {"catalog", required_argument, 0, 'c'}, {"output", required_argument, 0, 'o'},
        {"max-rate", required_argument, 0, 'R'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    de_gen_opts o;
    de_gen_opts_default(&o);
    o.devices = 0;
    const char *out_path = NULL, *catalog = NULL;
    long long v;
    double f;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (de_cli_int("--devices", optarg, 1, 1000000, &v))
                return DE_EXIT_ERROR;
            o.devices = (int)v;
            break;
        case 'l':
            if (de_cli_int("--lc-tasks", optarg, 0, 10000000, &v))
                return DE_EXIT_ERROR;
            o.lc_tasks = (int)v;
            break;
        case 's':
            if (de_cli_int("--seed", optarg, 0, 4294967295LL, &v))
                return DE_EXIT_ERROR;
            o.seed = (unsigned long)v;
            break;
        case 'n': o.network = optarg; break;
        case 'b':
            if (de_cli_int("--batch", optarg, 1, 1000000, &v))
                return DE_EXIT_ERROR;
            o.global_batch = (int)v;
            break;
        case 'm':
            if (de_cli_float("--margin", optarg, 0, 0.9, &f))
                return DE_EXIT_ERROR;
            o.safety_margin = f;
            break;
        case 'c': catalog = optarg; break;
        case 'o': out_path = optarg; break;
        case 'R':
            if (de_cli_float("--max-rate", optarg, 1e-6, 1e9, &f))
                return DE_EXIT_ERROR;
            o.max_rate = f;
            break;
        case 'h': help(stdout); return DE_EXIT_OK;
        default: help(stderr); return de_cli_fail("scenario generate: unknown option or missing argument: %s", argv[optind - 1]);
        }
    }
    if (o.devices == 0)
        return de_cli_fail("scenario generate: --devices N is required");
    if (!out_path)
        return de_cli_fail("scenario generate: -o FILE is required (- for stdout)");
    if (optind != argc)
        return de_cli_fail("scenario generate: unexpected argument '%s'", argv[optind]);
    de_catalog *cat;
    de_err err;
    if (de_catalog_load(catalog ? catalog : DE_DEFAULT_CATALOG, &cat, &err))
        return de_cli_fail("%s", err.msg);
    o.catalog = catalog;
    FILE *f_out = strcmp(out_path, "-") == 0 ? stdout : fopen(out_path, "w");
    int rc = DE_EXIT_OK;
    if (!f_out) {
        rc = de_cli_fail("%s: cannot write", out_path);
    } else {
        if (de_generate(cat, &o, f_out, &err))
            rc = de_cli_fail("%s", err.msg);
        if (f_out != stdout && fclose(f_out))
            rc = de_cli_fail("%s: write failed", out_path);
    }
    de_catalog_destroy(cat);
    return rc;
}

static int cmd_show(int argc, char **argv, int print)
{
    static const struct option opts[] = {{"catalog", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *catalog = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'c')
            catalog = optarg;
        else if (c == 'h') {
            help(stdout);
            return DE_EXIT_OK;
        } else
            return de_cli_fail("scenario %s: unknown option or missing argument: %s", argv[0], argv[optind - 1]);
    }
    if (optind != argc - 1)
        return de_cli_fail("scenario %s: expected exactly one FILE", argv[0]);
    de_scenario *s;
    de_err err;
    if (de_scenario_load(argv[optind], catalog, &s, &err))
        return de_cli_fail("%s", err.msg);
    if (print)
        de_scenario_print(s, stdout);
    else
        printf("%s: valid (%d devices, %d LC tasks, %d jobs, %d changes)\n", s->path, s->n_devices, s->n_tasks, s->n_jobs,
               s->n_changes);
    de_scenario_destroy(s);
    return DE_EXIT_OK;
}

int de_cmd_scenario(int argc, char **argv)
{
    if (argc < 2) {
        help(stderr);
        return de_cli_fail("scenario: a subcommand is required");
    }
    const char *sub = argv[1];
    if (strcmp(sub, "generate") == 0)
        return cmd_generate(argc - 1, argv + 1);
    if (strcmp(sub, "show") == 0)
        return cmd_show(argc - 1, argv + 1, 1);
    if (strcmp(sub, "check") == 0)
        return cmd_show(argc - 1, argv + 1, 0);
    if (strcmp(sub, "keys") == 0) {
        de_scenario_print_keys(stdout);
        printf("\n");
        de_catalog_print_keys(stdout);
        return DE_EXIT_OK;
    }
    if (strcmp(sub, "catalog") == 0) {
        de_catalog *cat;
        de_err err;
        if (de_catalog_load(argc > 2 ? argv[2] : DE_DEFAULT_CATALOG, &cat, &err))
            return de_cli_fail("%s", err.msg);
        de_catalog_print(cat, stdout);
        de_catalog_destroy(cat);
        return DE_EXIT_OK;
    }
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        help(stdout);
        return DE_EXIT_OK;
    }
    help(stderr);
    return de_cli_fail("scenario: unknown subcommand '%s'", sub);
}
