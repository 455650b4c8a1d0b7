/*
 * status.c - version queries and the names and messages of status codes.
 */
#include "context.h"

#define VICREG_STR2(x) #x
#define VICREG_STR(x) VICREG_STR2(x)

VICREG_API unsigned vicreg_version_number(void)
{
    return VICREG_VERSION_NUMBER;
}

VICREG_API const char *vicreg_version_string(void)
{
    return VICREG_STR(VICREG_VERSION_MAJOR) "." VICREG_STR(VICREG_VERSION_MINOR) "."
        VICREG_STR(VICREG_VERSION_PATCH);
}

struct status_text {
    int status;
    const char *name;
    const char *message;
};

static const struct status_text status_texts[] = {
    { VICREG_OK, "VICREG_OK", "success" },
    { VICREG_ERR_INVALID_ARGUMENT, "VICREG_ERR_INVALID_ARGUMENT",
      "invalid argument: a required pointer is NULL, a key is unknown, or sharded "
      "statistics no batch can produce" },
    { VICREG_ERR_OUT_OF_RANGE, "VICREG_ERR_OUT_OF_RANGE",
      "parameter value outside its bounds" },
    { VICREG_ERR_NON_FINITE, "VICREG_ERR_NON_FINITE", "NaN or Inf in an input batch" },
    { VICREG_ERR_NO_MEMORY, "VICREG_ERR_NO_MEMORY", "out of memory" },
    { VICREG_ERR_BAD_SHAPE, "VICREG_ERR_BAD_SHAPE",
      "bad shape: n < 2, d == 0, a leading dimension smaller than d, a row range "
      "outside the batch, or a bad row count in sharded statistics" },
    { VICREG_ERR_SIZE_OVERFLOW, "VICREG_ERR_SIZE_OVERFLOW",
      "sizes overflow the integer types (size_t or the BLAS index)" },
    { VICREG_ERR_OVERLAP, "VICREG_ERR_OVERLAP",
      "a gradient or statistics buffer overlaps an input or another buffer the call "
      "writes" },
    { VICREG_ERR_OVERFLOW, "VICREG_ERR_OVERFLOW",
      "inputs so large that the result could overflow the floating-point type" },
    { VICREG_ERR_NO_RESULT, "VICREG_ERR_NO_RESULT", "no successful loss call on this context yet" },
};

static const struct status_text *find(int status)
{
    for (size_t i = 0; i < sizeof status_texts / sizeof status_texts[0]; i++)
        if (status_texts[i].status == status)
            return &status_texts[i];
    return NULL;
}

VICREG_API const char *vicreg_strerror(int status)
{
    const struct status_text *t = find(status);
    return t ? t->message : "unknown status";
}

VICREG_API const char *vicreg_status_name(int status)
{
    const struct status_text *t = find(status);
    return t ? t->name : "VICREG_ERR_UNKNOWN";
}
