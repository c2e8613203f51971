/* Raw terminal mode, restored on every way out: atexit for normal exits,
 * handlers for fatal signals (which then re-raise), explicit calls. */
#include "term.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static volatile sig_atomic_t raw_active;

void term_restore(void)
{
	if (raw_active) {
		/* tcsetattr is async-signal-safe: usable from the handler. */
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		raw_active = 0;
	}
}

static void fatal_signal(int sig)
{
	term_restore();
	/* SA_RESETHAND restored the default action: die as we would have. */
	raise(sig);
}

int term_raw_enter(void)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT,
				     SIGQUIT };
	struct termios raw;
	struct sigaction sa;

	/* Once: a second call would save the raw settings as the ones to
	 * restore. */
	if (raw_active)
		return 0;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) < 0)
		return 0;
	raw = saved;
	cfmakeraw(&raw);
	/* Keep output post-processing off too: the guest's tty layer already
	 * sends "\r\n". */
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0)
		return 0;
	raw_active = 1;
	atexit(term_restore);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fatal_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (unsigned i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);
	return 1;
}
