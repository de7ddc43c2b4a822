/**
 * Reading a password for the admin CLI: never from the command line (it would land in shell
 * history and in `ps`), but from a prompt without echo, or from stdin when that is a pipe.
 */

export class PasswordInputError extends Error {
  override readonly name = "PasswordInputError";
}

/** All of a piped stdin, as one line: one trailing newline is dropped, others are refused. */
async function readPiped(input: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  input.setEncoding("utf8");
  for await (const chunk of input) text += chunk as string;
  const line = text.replace(/\r?\n$/, "");
  if (/[\r\n]/.test(line)) throw new PasswordInputError("the password on stdin must be a single line");
  return line;
}

/** One line typed at the terminal, not echoed. Ctrl-C or Ctrl-D abandons the command. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  stdin.setRawMode(true); // before the prompt: whatever is typed after it must not echo
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let line = "";
    const finish = (error?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(line);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n") return finish();
        if (char === "\u0003") return finish(new PasswordInputError("interrupted"));
        if (char === "\u0004") return finish(new PasswordInputError("no password given"));
        if (char === "\u007f" || char === "\b") line = [...line].slice(0, -1).join("");
        else if (char >= " ") line += char;
      }
    };
    stdin.setEncoding("utf8");
    stdin.resume();
    stdin.on("data", onData);
  });
}

/** The new password: prompted twice at a terminal, else read from `input` (stdin). Never empty. */
export async function readNewPassword(input: NodeJS.ReadableStream = process.stdin): Promise<string> {
  let password: string;
  if (input === process.stdin && process.stdin.isTTY) {
    password = await promptHidden("Password: ");
    if (password !== "" && (await promptHidden("Password (again): ")) !== password) {
      throw new PasswordInputError("the passwords do not match");
    }
  } else {
    password = await readPiped(input);
  }
  if (password === "") throw new PasswordInputError("the password is empty");
  return password;
}
