/* de_error.c — error code texts and the message buffer (see de_error.h). */
#include "de_error.h"

#include <stdarg.h>
#include <stdio.h>

const char *de_strerror(int code)
{
    switch (code) {
#define DE_X_CASE(name, value, text) case value: return text;
        DE_ERROR_TABLE(DE_X_CASE)
#undef DE_X_CASE
    }
    return "unknown error";
}

int de_err_set(de_err *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        e->code = code;
    }
    return code;
}

void de_err_clear(de_err *e)
{
    if (e) {
        e->code = DE_OK;
        e->msg[0] = '\0';
    }
}
