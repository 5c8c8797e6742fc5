/* policy_lc_free.c — the policy `lc-free`: train only on devices that serve no LC task.
 *
 * The simplest way to keep every deadline: leave every device that runs an LC
 * application alone. It is also the worked example of ARCHITECTURE.md, "Adding a
 * policy": this file and one row of DE_POLICY_TABLE (de_policy.h) are all it takes.
 * The deep-edge search does the rest, restricted to the devices allowed here, so the
 * split over those devices is optimal. Compared with deep-edge, it shows what
 * co-locating training with LC applications gains. */
#include <stdlib.h>

#include "de_planner.h"
#include "de_util.h"

void de_policy_lc_free(const de_policy_call *c, de_plan *out)
{
    const de_scenario *s = c->st->scen;
    unsigned char *allowed = de_calloc((size_t)s->n_devices + 1, 1);
    int n = 0;
    for (int d = 0; d < s->n_devices; d++)
        if (s->dev_task_start[d + 1] == s->dev_task_start[d]) { /* no LC task on d */
            allowed[d] = 1;
            n++;
        }
    if (n == 0)
        de_plan_note(out, "lc-free: every device serves an LC task: none may train");
    else
        de_planner_search(c, allowed, 0, out);
    free(allowed);
}
