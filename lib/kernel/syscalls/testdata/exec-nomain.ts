/** A module that is not a luosim program: it exports no main (execve: ENOEXEC). */
export const notMain = 1;
