// A ledger with transfers, as an osps service (SERVICE.md). Its invariant: money is
// conserved. Every transfer moves an amount from one account to another, so the sum of all
// balances always equals the sum of all deposits, on the primary, on the standby and after
// any replay of the journal.
//
//   osps start --service examples/ledger.mjs
//   osps client call open '{"account":"alice","amount":100}'
//   osps client call transfer '{"from":"alice","to":"bob","amount":30}'
//   osps client call balance '{"account":"bob"}'

function fail(code, message) {
  throw Object.assign(new Error(message), { code });
}

function amountOf(x) {
  if (!Number.isSafeInteger(x) || x <= 0) fail('BAD_AMOUNT', 'amount must be a positive integer');
  return x;
}

export default {
  name: 'ledger',

  init() {
    return { accounts: {}, deposited: 0, transfers: 0 };
  },

  commands: {
    open(state, { account, amount = 0 } = {}) {
      if (typeof account !== 'string' || account === '') fail('BAD_ACCOUNT', 'account must be a non-empty string');
      if (account in state.accounts) fail('EXISTS', `account ${account} exists`);
      const initial = amount === 0 ? 0 : amountOf(amount);
      state.accounts[account] = initial;
      state.deposited += initial;
      return initial;
    },

    transfer(state, { from, to, amount } = {}) {
      const n = amountOf(amount);
      // Validate everything before changing anything: a throw leaves the state as it was.
      if (!(from in state.accounts)) fail('NO_ACCOUNT', `no account ${from}`);
      if (!(to in state.accounts)) fail('NO_ACCOUNT', `no account ${to}`);
      if (from === to) fail('SAME_ACCOUNT', 'from and to are the same account');
      if (state.accounts[from] < n) fail('INSUFFICIENT_FUNDS', `${from} has ${state.accounts[from]}`);
      state.accounts[from] -= n;
      state.accounts[to] += n;
      state.transfers += 1;
      return { from: state.accounts[from], to: state.accounts[to] };
    },
  },

  queries: {
    balance(state, { account } = {}) {
      return state.accounts[account] ?? null;
    },
    audit(state) {
      const total = Object.values(state.accounts).reduce((a, b) => a + b, 0);
      return { accounts: Object.keys(state.accounts).length, total, deposited: state.deposited, transfers: state.transfers };
    },
  },
};
