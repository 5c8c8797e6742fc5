/* fault_trace.c — fuzz target: a fault trace (CSV time_s,device,kind[,repair_s,factor]),
 * read as the scenario of world.h names it (`fault_trace`), which turns its rows into
 * changes against the scenario's devices; every change of an accepted scenario is then
 * applied to the state in turn, as sim and run do. */
#include <stdlib.h>
#include <string.h>

#include "de_fuzz.h"
#include "de_replan.h"
#include "de_util.h"
#include "world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    de_fuzz_file("faults.csv", data, n);
    char *text = de_sprintf("%sfault_trace = \"faults.csv\";\n", de_fuzz_world_text);
    char *name = de_path_join(de_fuzz_dir(), "world.cfg");
    de_scenario *s = NULL;
    de_err err;
    int rc = de_scenario_load_text(text, name, NULL, &s, &err);
    de_fuzz_verdict(rc, &err);
    if (rc == DE_OK) {
        de_state st;
        de_state_init(&st, s, 0.0);
        for (int i = 0; i < s->n_changes; i++) {
            char buf[256];
            de_change_describe(&s->changes[i], s, buf, sizeof buf);
            de_change_apply(&st, &s->changes[i]);
        }
        de_state_free(&st);
    }
    de_scenario_destroy(s);
    free(name);
    free(text);
    return 0;
}
