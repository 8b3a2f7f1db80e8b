/* A shared object that is not a plugin: no entry symbol. */
#include <switchboard/plugin.h>

SB_EXPORT int nosymbol_something(void);
SB_EXPORT int nosymbol_something(void)
{
    return 42;
}
