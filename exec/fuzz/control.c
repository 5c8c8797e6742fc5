/* control.c — fuzz target: what a worker or an LC service reads from the coordinator:
 * bytes on its connection (a socket pair here, in two parts with the reader called
 * between them) cut into lines by de_wire_next (partial, over-long and unterminated
 * lines included), each parsed by de_wire_control, as the worker and the LC service do,
 * and by the field readers. */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "de_fuzz.h"
#include "de_wire.h"

static void take(de_wire_reader *rd, int fd, int until_closed)
{
    for (;;) {
        char *line;
        int k = de_wire_next(rd, fd, &line);
        if (k == DE_WIRE_LINE) {
            de_msg m;
            double v;
            char out[64];
            de_wire_get(line, "task", out, sizeof out);
            (void)de_wire_num(line, "g", 0);
            if (de_wire_control(line, &m, &v) == 0 && !(v >= 0 && v <= 1e6))
                de_fuzz_die("de_wire_control let %g through", v);
        } else if (k == DE_WIRE_CLOSED || (k == DE_WIRE_NONE && !until_closed)) {
            return;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n > 65536)
        return 0; /* more than a socket pair holds unread */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        de_fuzz_die("socketpair");
    de_wire_reader *rd = malloc(sizeof *rd);
    de_wire_reader_init(rd);
    size_t half = n / 2;
    if (send(sv[1], data, half, MSG_DONTWAIT) != (ssize_t)half)
        de_fuzz_die("send");
    take(rd, sv[0], 0);
    if (send(sv[1], data + half, n - half, MSG_DONTWAIT) != (ssize_t)(n - half))
        de_fuzz_die("send");
    shutdown(sv[1], SHUT_WR);
    take(rd, sv[0], 1);
    close(sv[0]);
    close(sv[1]);
    free(rd);
    return 0;
}
