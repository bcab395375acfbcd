import { calculateCodeChallenge } from "@pleo-walkthrough/pkce";
console.log(calculateCodeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
