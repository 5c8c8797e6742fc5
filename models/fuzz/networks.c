/* networks.c — fuzz target: the catalog's networks.cfg (training networks and LC models),
 * loaded as a whole catalog (de_catalog_load) with one device type that names edgenet-s
 * for both; an accepted catalog is printed. */
#include <stdio.h>
#include <sys/stat.h>

#include "de_catalog.h"
#include "de_fuzz.h"

static const char type_text[] =
    "name = \"t\"; description = \"fuzz\"; kind = \"cpu\"; memory_gb = 2.0; source = \"fuzz\";\n"
    "interference = { lc_inflation = 0.5; blocking_fraction = 0.0; train_slowdown = 1.0; source = \"fuzz\"; };\n"
    "train = ( { network = \"edgenet-s\"; overhead_s = 0.001; per_sample_s = 0.01; max_batch = 64; source = \"f\"; } );\n"
    "infer = ( { model = \"edgenet-s\"; service_s = 0.005; scv = 0.2; source = \"fuzz\"; } );\n";

static char cat_dir[512];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(cat_dir, sizeof cat_dir, "%s/cat", de_fuzz_dir());
    char dev[600];
    snprintf(dev, sizeof dev, "%s/devices", cat_dir);
    if (mkdir(cat_dir, 0700) || mkdir(dev, 0700))
        de_fuzz_die("cannot create %s", dev);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    de_fuzz_file("cat/devices/t.cfg", type_text, sizeof type_text - 1);
    de_fuzz_file("cat/networks.cfg", data, n);
    de_catalog *cat = NULL;
    de_err err;
    int rc = de_catalog_load(cat_dir, &cat, &err);
    de_fuzz_verdict(rc, &err);
    if (rc == DE_OK)
        de_catalog_print(cat, de_fuzz_null());
    de_catalog_destroy(cat);
    return 0;
}
