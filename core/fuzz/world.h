/* world.h — the scenario the plan and --inject fuzz targets read against: built in, so
 * that their seeds (plan files carry the scenario's checksum) do not depend on the
 * bundled scenarios; its device types and networks are the built-in catalog's. */
#ifndef DE_FUZZ_WORLD_H
#define DE_FUZZ_WORLD_H

#include "de_error.h"
#include "de_fuzz.h"
#include "de_scenario.h"

static const char de_fuzz_world_text[] =
    "name = \"fuzz-world\";\n"
    "links = ( { name = \"lan\"; bandwidth_mbps = 1000.0; latency_ms = 0.2; },\n"
    "          { name = \"wifi\"; bandwidth_mbps = 100.0; latency_ms = 2.0; } );\n"
    "devices = (\n"
    "  { name = \"a\"; type = \"emu-cpu-100\"; link = \"lan\"; },\n"
    "  { name = \"b\"; type = \"emu-cpu-050\"; link = \"lan\"; },\n"
    "  { name = \"c\"; type = \"emu-cpu-025\"; link = \"wifi\"; }\n"
    ");\n"
    "lc_tasks = ( { name = \"cam\"; device = \"a\"; model = \"edgenet-s\"; rate = 20.0; deadline_ms = 60.0; } );\n"
    "jobs = ( { name = \"j\"; network = \"edgenet-s\"; dataset_size = 320; epochs = 2; global_batch = 32;\n"
    "           checkpoint_interval = 5; checkpoint_cost_s = 0.05; } );\n"
    "faults = ( { kind = \"crash\"; device = \"b\"; time_s = 5.0; repair_s = 10.0; } );\n";

static inline de_scenario *de_fuzz_world(void)
{
    de_scenario *s = NULL;
    de_err err;
    if (de_scenario_load_text(de_fuzz_world_text, "fuzz-world.cfg", NULL, &s, &err))
        de_fuzz_die("the built-in scenario does not load: %s", err.msg);
    return s;
}

#endif
