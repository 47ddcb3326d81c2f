// Whether a string has no lone surrogate, so UTF-8 carries it exactly (Buffer would write
// U+FFFD for each one). String.prototype.isWellFormed (Node 20) is newer than the ES2022
// library types.
export const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();
