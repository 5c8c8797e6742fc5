/* inject.c — fuzz target: a change given on the command line (`--inject
 * KIND:TARGET[*F|=R]@ITER|@Ts`, de_change_parse_spec) against the scenario of world.h;
 * an accepted change is applied to the world's state and described, as sim and run do. */
#include <stdlib.h>

#include "de_change.h"
#include "de_fuzz.h"
#include "de_replan.h"
#include "de_state.h"
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
    char *spec = de_fuzz_text(data, n);
    de_change c;
    de_err err;
    int rc = de_change_parse_spec(spec, world, &c, &err);
    de_fuzz_verdict(rc, &err);
    if (rc == DE_OK) {
        char buf[256];
        de_change_describe(&c, world, buf, sizeof buf);
        de_state st;
        de_state_init(&st, world, 0.0);
        de_change_apply(&st, &c);
        de_state_free(&st);
    }
    free(spec);
    return 0;
}
