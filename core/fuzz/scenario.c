/* scenario.c — fuzz target: a scenario file (de_scenario_load_text); one that loads is
 * printed and planned under every policy, as `deepedge plan` would. */
#include <stdio.h>
#include <stdlib.h>

#include "de_fuzz.h"
#include "de_planner.h"
#include "de_policy.h"
#include "de_scenario.h"
#include "de_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    char *text = de_fuzz_text(data, n);
    char *name = de_path_join(de_fuzz_dir(), "scenario.cfg"); /* relative paths resolve in the scratch folder */
    de_scenario *s = NULL;
    de_err err;
    int rc = de_scenario_load_text(text, name, NULL, &s, &err);
    de_fuzz_verdict(rc, &err);
    if (rc == DE_OK) {
        de_scenario_print(s, de_fuzz_null());
        de_state st;
        de_state_init(&st, s, 0.0);
        de_predictor pred = de_predictor_model();
        for (int p = 0; p < DE_POLICY_COUNT; p++)
            for (int j = 0; j < s->n_jobs; j++) {
                de_plan plan;
                de_plan_init(&plan);
                if (de_plan_compute(&st, j, (de_policy)p, &s->planner, &pred, &plan, &err) == DE_OK)
                    de_plan_print(&plan, &st, de_fuzz_null());
                de_plan_free(&plan);
            }
        de_state_free(&st);
    }
    de_scenario_destroy(s);
    free(name);
    free(text);
    return 0;
}
