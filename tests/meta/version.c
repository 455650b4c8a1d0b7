/*
 * version.c - the version macros, the version functions and the Meson
 * project version (argv[1]) must all say the same thing.
 */
#include <vicreg.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The macros are integer constant expressions usable in #if. */
#if !defined(VICREG_VERSION_MAJOR) || !defined(VICREG_VERSION_MINOR) \
    || !defined(VICREG_VERSION_PATCH) || !defined(VICREG_VERSION_NUMBER)
#error "vicreg.h must define VICREG_VERSION_MAJOR, _MINOR, _PATCH and _NUMBER"
#endif
#if VICREG_VERSION_MINOR < 0 || VICREG_VERSION_MINOR > 99 \
    || VICREG_VERSION_PATCH < 0 || VICREG_VERSION_PATCH > 99
#error "VICREG_VERSION_MINOR and VICREG_VERSION_PATCH must be within 0..99"
#endif
#if VICREG_VERSION_NUMBER \
    != VICREG_VERSION_MAJOR * 10000 + VICREG_VERSION_MINOR * 100 + VICREG_VERSION_PATCH
#error "VICREG_VERSION_NUMBER is not major*10000 + minor*100 + patch"
#endif

static int failures = 0;

#define CHECK(cond, ...)                          \
    do {                                          \
        if (!(cond)) {                            \
            fprintf(stderr, "FAIL: " __VA_ARGS__); \
            fputc('\n', stderr);                  \
            failures++;                           \
        }                                         \
    } while (0)

/* Parses "major.minor.patch" (digits only); returns 0 on success. */
static int parse_version(const char *s, long part[3])
{
    char *end;
    int i;
    for (i = 0; i < 3; i++) {
        if (*s < '0' || *s > '9')
            return -1;
        part[i] = strtol(s, &end, 10);
        s = end;
        if (i < 2) {
            if (*s != '.')
                return -1;
            s++;
        }
    }
    return *s == '\0' ? 0 : -1;
}

int main(int argc, char **argv)
{
    char from_macros[64];
    long project[3];
    const char *running = vicreg_version_string();
    unsigned number = vicreg_version_number();

    if (argc != 2) {
        fprintf(stderr, "usage: %s <meson project version>\n", argv[0]);
        return 2;
    }
    snprintf(from_macros, sizeof from_macros, "%d.%d.%d", VICREG_VERSION_MAJOR,
             VICREG_VERSION_MINOR, VICREG_VERSION_PATCH);

    CHECK(running != NULL, "vicreg_version_string() returned NULL");
    if (running == NULL)
        running = "(null)";
    CHECK(number == (unsigned)VICREG_VERSION_NUMBER,
          "vicreg_version_number() is %u, VICREG_VERSION_NUMBER is %u", number,
          (unsigned)VICREG_VERSION_NUMBER);
    CHECK(strcmp(running, from_macros) == 0,
          "vicreg_version_string() is \"%s\", the macros say \"%s\"", running, from_macros);
    CHECK(strcmp(running, argv[1]) == 0,
          "vicreg_version_string() is \"%s\", the Meson project version is \"%s\"", running,
          argv[1]);
    if (parse_version(argv[1], project) != 0) {
        CHECK(0, "the Meson project version \"%s\" is not major.minor.patch", argv[1]);
    } else {
        CHECK(project[0] == VICREG_VERSION_MAJOR && project[1] == VICREG_VERSION_MINOR
                  && project[2] == VICREG_VERSION_PATCH,
              "the header's VICREG_VERSION_MAJOR.MINOR.PATCH is %s, the Meson project "
              "version is %s",
              from_macros, argv[1]);
        CHECK(number == (unsigned)(project[0] * 10000 + project[1] * 100 + project[2]),
              "vicreg_version_number() is %u, the Meson project version %s gives %ld",
              number, argv[1], project[0] * 10000 + project[1] * 100 + project[2]);
    }

    if (failures == 0)
        printf("OK: version %s (%u) in the header, the library and meson.build\n", running,
               number);
    return failures == 0 ? 0 : 1;
}
