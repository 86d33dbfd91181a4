import { useState } from "react";
import { api, setToken } from "../api";
import { ErrorNote } from "../components/ErrorNote";

/** Conductor's key mode: a key id and secret exchanged for a token kept in memory only. */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [keyId, setKeyId] = useState("");
  const [keySecret, setKeySecret] = useState("");
  const [error, setError] = useState<unknown>(null);
  return (
    <section className="signin">
      <h1>Sign in</h1>
      <p>This Baton asks for an API key (Conductor's key id and secret).</p>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            const { token } = await api.token(keyId, keySecret);
            setToken(token);
            onSignedIn();
          } catch (err) {
            setError(err);
          }
        }}
      >
        <label className="block">
          Key id
          <input value={keyId} onChange={(e) => setKeyId(e.target.value)} autoComplete="username" />
        </label>
        <label className="block">
          Key secret
          <input type="password" value={keySecret} onChange={(e) => setKeySecret(e.target.value)} autoComplete="current-password" />
        </label>
        <button className="primary" type="submit">
          Sign in
        </button>
      </form>
      <ErrorNote error={error} />
    </section>
  );
}
