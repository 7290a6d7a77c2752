/* Reports failure code 3 through tohost. */
int main(void) { return 3; }
