/* plan.c — fuzz target: a plan file (de_plan_read) for the built-in scenario of world.h;
 * one that is accepted is evaluated and printed, as `deepedge sim --plan` and
 * `deepedge run --plan` would. */
#include <stdlib.h>

#include "de_fuzz.h"
#include "de_plan.h"
#include "de_planner.h"
#include "de_util.h"
#include "world.h"

static de_scenario *world;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    world = de_fuzz_world();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *path = de_fuzz_file("plan.cfg", data, n);
    de_plan p;
    de_plan_init(&p);
    de_err err;
    int rc = de_plan_read(path, world, &p, &err);
    de_fuzz_verdict(rc, &err);
    if (rc == DE_OK) {
        de_state st;
        de_state_init(&st, world, 0.0);
        de_predictor pred = de_predictor_model();
        de_plan_evaluate(&p, &st, &pred, world->planner.safety_margin);
        de_plan_print(&p, &st, de_fuzz_null());
        de_state_free(&st);
    }
    de_plan_free(&p);
    return 0;
}

/* Seeds: the plan of every policy for the built-in scenario, as `deepedge plan -o` writes it. */
int de_fuzz_write_seeds(const char *dir)
{
    de_state st;
    de_state_init(&st, world, 0.0);
    de_predictor pred = de_predictor_model();
    int rc = 0;
    for (int k = 0; k < DE_POLICY_COUNT && !rc; k++) {
        de_plan p;
        de_plan_init(&p);
        de_err err;
        char name[64];
        snprintf(name, sizeof name, "%s/%s.cfg", dir, de_policy_name((de_policy)k));
        rc = de_plan_compute(&st, 0, (de_policy)k, &world->planner, &pred, &p, &err);
        if (!rc)
            rc = de_plan_write(&p, &st, name, &err);
        if (rc)
            fprintf(stderr, "%s: %s\n", name, err.msg);
        de_plan_free(&p);
    }
    de_state_free(&st);
    return rc;
}
