// filled in by the passwords work
