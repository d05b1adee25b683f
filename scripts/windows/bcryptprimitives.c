/*
 * A stand-in for Windows' bcryptprimitives.dll, for running our Windows test binaries under
 * Wine only; it is never shipped.
 *
 * Why: Rust's std (1.78 and later) imports `ProcessPrng` from bcryptprimitives.dll to seed
 * its hash maps. Debian's Wine 8 has no such DLL, so every Rust exe exits with code 53 before
 * `main`. Real Windows 10 and later have it, so the shipped binary needs nothing.
 *
 * `ProcessPrng` is documented to always succeed and return TRUE; the system-preferred RNG
 * behind `BCryptGenRandom` is the same generator it wraps on Windows.
 *
 * Built by scripts/windows-lane.sh:
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -lbcrypt
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* BCryptGenRandom takes a ULONG length; a larger request is filled in pieces. */
    while (len > 0) {
        ULONG chunk = len > 0x7fffffff ? 0x7fffffff : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
